#include "policy.h"

#include <gtest/gtest.h>

#include "glob_pattern.h"
#include "uuid.h"

namespace vmpower {
namespace {

VmPolicy rule(std::string label, std::vector<std::string> globs,
              std::vector<std::string> uuids = {}) {
    VmPolicy r;
    r.name = std::move(label);
    r.name_globs = std::move(globs);
    r.uuids = std::move(uuids);
    return r;
}

TEST(Policy, FirstMatchingRuleWins) {
    Policy p({rule("dpdk", {"dpdk-*"}), rule("all", {"*"})});
    ASSERT_NE(p.match("dpdk-1", ""), nullptr);
    EXPECT_EQ(p.match("dpdk-1", "")->name, "dpdk");
    EXPECT_EQ(p.match("web", "")->name, "all");
}

TEST(Policy, UnmatchedVmIsDenied) {
    Policy p({rule("dpdk", {"dpdk-*"})});
    EXPECT_EQ(p.match("web", "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e"), nullptr);
    EXPECT_EQ(Policy({}).match("any", ""), nullptr);
}

TEST(Policy, MatchesByUuidCaseAndDashInsensitive) {
    Policy p({rule("one", {}, {"6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e"})});
    EXPECT_NE(p.match("x", "6D1C9B0A-2F0E-4C55-9D0E-3A1F1B2C3D4E"), nullptr);
    EXPECT_NE(p.match("x", "6d1c9b0a2f0e4c559d0e3a1f1b2c3d4e"), nullptr);
    EXPECT_EQ(p.match("x", "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4f"), nullptr);
    EXPECT_EQ(p.match("x", "not-a-uuid"), nullptr);
}

TEST(Policy, HandBuiltUuidsAreCanonicalised) {
    Policy p({rule("one", {}, {"6D1C9B0A2F0E4C559D0E3A1F1B2C3D4E"})});
    EXPECT_NE(p.match("x", "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e"), nullptr);
}

TEST(Policy, NameOrUuidIsEnough) {
    Policy p({rule("r", {"web"}, {"6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e"})});
    EXPECT_NE(p.match("web", ""), nullptr);
    EXPECT_NE(p.match("other", "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e"), nullptr);
}

TEST(Policy, RecordFormatDefaultsTo464) {
    VmPolicy old = rule("old", {"old-*"});
    old.record_format = RecordFormat::Legacy16;
    Policy p({old});
    EXPECT_EQ(p.recordFormat("old-1", ""), RecordFormat::Legacy16);
    EXPECT_EQ(p.recordFormat("new", ""), RecordFormat::Dpdk464);
    EXPECT_EQ(recordSize(RecordFormat::Legacy16), 16U);
    EXPECT_EQ(recordSize(RecordFormat::Dpdk464), 464U);
}

TEST(Policy, DefaultRuleAllowsEveryCommandAndNoPhysical) {
    VmPolicy r;
    EXPECT_EQ(r.allowed_actions.size(), 6U);
    EXPECT_FALSE(r.physical_addressing);
    EXPECT_FALSE(r.allowed_pcpus.has_value());
}

TEST(GlobPattern, RejectsWhatFnmatchWouldTakeLiterally) {
    EXPECT_FALSE(globError("dpdk-[0-9]*"));
    EXPECT_FALSE(globError("[]x]"));
    EXPECT_FALSE(globError("a\\*"));
    EXPECT_TRUE(globError(""));
    EXPECT_TRUE(globError("dpdk-[0-9"));
    EXPECT_TRUE(globError("trailing\\"));
    EXPECT_TRUE(globMatches("dpdk-[0-9]*", "dpdk-3x"));
    EXPECT_FALSE(globMatches("dpdk-[0-9]*", "dpdk-x"));
}

TEST(Uuid, Canonical) {
    EXPECT_EQ(canonicalUuid("6D1C9B0A2F0E4C559D0E3A1F1B2C3D4E"),
              "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e");
    EXPECT_FALSE(canonicalUuid("6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4"));
    EXPECT_FALSE(canonicalUuid("6d1c9b0a2-f0e-4c55-9d0e-3a1f1b2c3d4e"));
    EXPECT_FALSE(canonicalUuid("6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4g"));
}

}  // namespace
}  // namespace vmpower

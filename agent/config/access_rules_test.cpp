#include "access_rules.h"

#include <gtest/gtest.h>

#include "glob_pattern.h"
#include "uuid.h"

namespace vmpower {
namespace {

AccessRule rule(std::string label, std::vector<std::string> globs,
                std::vector<std::string> uuids = {}) {
    AccessRule r;
    r.name = std::move(label);
    r.name_globs = std::move(globs);
    r.uuids = std::move(uuids);
    return r;
}

TEST(AccessRules, FirstMatchingRuleWins) {
    AccessRules p({rule("dpdk", {"dpdk-*"}), rule("all", {"*"})});
    ASSERT_NE(p.match("dpdk-1", ""), nullptr);
    EXPECT_EQ(p.match("dpdk-1", "")->name, "dpdk");
    EXPECT_EQ(p.match("web", "")->name, "all");
}

TEST(AccessRules, UnmatchedVmIsDenied) {
    AccessRules p({rule("dpdk", {"dpdk-*"})});
    EXPECT_EQ(p.match("web", "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e"), nullptr);
    EXPECT_EQ(AccessRules({}).match("any", ""), nullptr);
}

TEST(AccessRules, MatchesByUuidCaseAndDashInsensitive) {
    AccessRules p({rule("one", {}, {"6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e"})});
    EXPECT_NE(p.match("x", "6D1C9B0A-2F0E-4C55-9D0E-3A1F1B2C3D4E"), nullptr);
    EXPECT_NE(p.match("x", "6d1c9b0a2f0e4c559d0e3a1f1b2c3d4e"), nullptr);
    EXPECT_EQ(p.match("x", "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4f"), nullptr);
    EXPECT_EQ(p.match("x", "not-a-uuid"), nullptr);
}

TEST(AccessRules, HandBuiltUuidsAreCanonicalised) {
    AccessRules p({rule("one", {}, {"6D1C9B0A2F0E4C559D0E3A1F1B2C3D4E"})});
    EXPECT_NE(p.match("x", "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e"), nullptr);
}

TEST(AccessRules, NameOrUuidIsEnough) {
    AccessRules p({rule("r", {"web"}, {"6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e"})});
    EXPECT_NE(p.match("web", ""), nullptr);
    EXPECT_NE(p.match("other", "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e"), nullptr);
}

TEST(AccessRules, RecordFormatDefaultsTo464) {
    AccessRule old = rule("old", {"old-*"});
    old.record_format = RecordFormat::Legacy16;
    AccessRules p({old});
    EXPECT_EQ(p.recordFormat("old-1", ""), RecordFormat::Legacy16);
    EXPECT_EQ(p.recordFormat("new", ""), RecordFormat::Dpdk464);
    EXPECT_EQ(recordSize(RecordFormat::Legacy16), 16U);
    EXPECT_EQ(recordSize(RecordFormat::Dpdk464), 464U);
}

TEST(AccessRules, DefaultRuleAllowsEveryCommandAndNoPhysical) {
    AccessRule r;
    EXPECT_EQ(r.allowed_actions.size(), 6U);
    EXPECT_FALSE(r.physical_addressing);
    EXPECT_FALSE(r.allowed_pcpus.has_value());
}

TEST(GlobPattern, RejectsWhatFnmatchWouldTakeLiterally) {
    EXPECT_TRUE(checkGlob("dpdk-[0-9]*"));
    EXPECT_TRUE(checkGlob("[]x]"));
    EXPECT_TRUE(checkGlob("a\\*"));
    EXPECT_FALSE(checkGlob(""));
    EXPECT_FALSE(checkGlob("dpdk-[0-9"));
    EXPECT_FALSE(checkGlob("trailing\\"));
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

// set-query's run-time overrides are part of the policy, not rules with a
// magic label: match() answers with the override, rules() stays the file's.
TEST(AccessRules, QueryOverrideChangesOnlyThatVmsQueries) {
    const std::string vm1 = "6D1C9B0A-2F0E-4C55-9D0E-3A1F1B2C3D4E";  // any case
    const std::string vm2 = "7d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e";
    AccessRule lab = rule("lab", {"vm*"});
    lab.allowed_pcpus = CpuSet{0, 1};
    AccessRules p({rule("deny", {"outsider"}), lab});
    AccessRules off = p.withQueryOverride("vm1", vm1, false);
    ASSERT_NE(off.match("vm1", vm1), nullptr);
    EXPECT_FALSE(off.match("vm1", vm1)->queries);
    EXPECT_EQ(off.match("vm1", vm1)->name, "lab");
    EXPECT_EQ(off.match("vm1", vm1)->allowed_pcpus, (CpuSet{0, 1}));  // the rest is kept
    EXPECT_TRUE(off.match("vm2", vm2)->queries);
    EXPECT_TRUE(off.matchRules("vm1", vm1)->queries);
    EXPECT_EQ(off.rules().size(), 2u);
    ASSERT_NE(off.overrideFor(vm1), nullptr);
    EXPECT_EQ(off.overrideFor(vm1)->rule_index, 1u);
    EXPECT_EQ(off.overrides().size(), 1u);
    EXPECT_TRUE(p.overrides().empty());  // the original is unchanged

    // Back to the file's value: the override goes instead of stacking.
    AccessRules on = off.withQueryOverride("vm1", vm1, true);
    EXPECT_TRUE(on.overrides().empty());
    EXPECT_TRUE(on.match("vm1", vm1)->queries);
}

TEST(AccessRules, NoOverrideForAnUnmatchedVm) {
    AccessRules p({rule("lab", {"vm*"})});
    const std::string uuid = "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e";
    EXPECT_TRUE(p.withQueryOverride("outsider", uuid, false).overrides().empty());
    EXPECT_TRUE(p.withQueryOverride("vm1", "not-a-uuid", false).overrides().empty());
}

}  // namespace
}  // namespace vmpower

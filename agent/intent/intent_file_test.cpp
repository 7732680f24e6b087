// The intent store's file format: written and read back unchanged, a bad
// entry left out with the rest kept, anything else (another format or
// version, not JSON) not this agent's file; and the older
// host-policies.json read into the same entries.
#include "intent_file.h"

#include <gtest/gtest.h>

namespace vmpower {
namespace {

constexpr const char* kUuid = "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e";
constexpr const char* kUuid2 = "00000000-0000-0000-0000-000000000002";

IntentFile sample() {
    HostPolicy time;
    time.type = HostPolicyType::Time;
    time.vcpus = {0, 1, 3};
    time.busy_hours.set(9).set(10).set(11);
    time.traffic_hours.set(18);
    time.traffic = {5, 100, 1000};
    time.macs = {*parseMac("52:54:00:12:34:56")};
    HostPolicy workload;
    workload.type = HostPolicyType::Workload;
    workload.vcpus = {2};
    workload.workload = Workload::High;
    const auto at = std::chrono::system_clock::time_point(std::chrono::seconds(1764504000));
    PowerIntent vm1;
    vm1.vcpus = {{0, LevelPosition{LevelPosition::Kind::Max, 0, 0}, 2600000, true},
                 {1, LevelPosition{LevelPosition::Kind::Step, 2, 10}, std::nullopt, std::nullopt},
                 {3, std::nullopt, std::nullopt, false}};
    vm1.host_policy = IntentHostPolicy{time, true};
    PowerIntent vm2;
    vm2.host_policy = IntentHostPolicy{workload, false};
    return {"boot-1", {{kUuid, {"vm1", {7, 123456}, vm1, at}}, {kUuid2, {"vm2", {3, 0}, vm2, at}}}};
}

TEST(IntentFile, WrittenAndReadBackUnchanged) {
    std::vector<std::string> problems;
    const std::string text = intentFileText(sample());
    EXPECT_NE(text.find("\"busy_hours\": \"9-11\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"format\": \"vmpower-intents\""), std::string::npos) << text;
    auto read = parseIntentFile(text, problems);
    ASSERT_TRUE(read);
    EXPECT_EQ(*read, sample());
    EXPECT_TRUE(problems.empty());
}

TEST(IntentFile, ABadEntryIsLeftOutTheRestKept) {
    std::vector<std::string> problems;
    auto read = parseIntentFile(R"({"format": "vmpower-intents", "version": 1, "boot_id": "b",
      "domains": {
      "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e": {"name": "vm1", "domain_id": 7,
         "vcpus": [{"vcpu": 0, "level": "max"}]},
      "00000000-0000-0000-0000-000000000002": {"name": "vm2", "domain_id": 3,
         "vcpus": [{"vcpu": 0, "level": "fastest"}]},
      "00000000-0000-0000-0000-000000000003": {"name": "vm3", "domain_id": 3,
         "host_policy": {"set_by": "rule", "policy": {"type": "workload", "vcpus": "0"}}},
      "not-a-uuid": {}}})",
                                problems);
    ASSERT_TRUE(read);
    ASSERT_EQ(read->domains.size(), 1u);
    EXPECT_EQ(read->domains.at(kUuid).run, (DomainRun{7, 0}));
    ASSERT_EQ(problems.size(), 3u);
    EXPECT_NE(problems[1].find("set_by must be guest or operator"), std::string::npos)
        << problems[1];
}

TEST(IntentFile, AnotherFormatOrVersionIsNotThisAgentsFile) {
    for (const char* text :
         {"", "{", "[]", R"({"version": 1, "domains": {}})",
          R"({"format": "vmpower-intents", "version": 2, "boot_id": "b", "domains": {}})",
          R"({"format": "something-else", "version": 1, "boot_id": "b", "domains": {}})"}) {
        std::vector<std::string> problems;
        EXPECT_FALSE(parseIntentFile(text, problems)) << text;
        EXPECT_EQ(problems.size(), 1u) << text;
    }
}

// The older host-policies.json: each entry a host policy of its domain id.
TEST(IntentFile, TheOlderHostPoliciesFileIsReadIntoTheSameEntries) {
    std::vector<std::string> problems;
    auto kept = parseLegacyHostPolicies(R"({"version": 1, "domains": {
      "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e": {"name": "vm1", "domain_id": 7, "set_by": "guest",
         "policy": {"type": "workload", "vcpus": "0", "workload": "high"}},
      "00000000-0000-0000-0000-000000000002": {"name": "vm2", "domain_id": 3, "set_by": "rule",
         "policy": {"type": "workload", "vcpus": "0"}},
      "00000000-0000-0000-0000-000000000003": {"name": "vm3", "domain_id": 3, "set_by": "guest",
         "policy": {"type": "weather", "vcpus": "0"}},
      "not-a-uuid": {}}})",
                                        problems);
    ASSERT_TRUE(kept);
    ASSERT_EQ(kept->size(), 1u);
    const StoredIntent& s = kept->at(kUuid);
    EXPECT_EQ(s.run, (DomainRun{7, 0}));
    ASSERT_TRUE(s.intent.host_policy);
    EXPECT_TRUE(s.intent.host_policy->set_by_guest);
    EXPECT_EQ(s.intent.host_policy->policy.workload, Workload::High);
    ASSERT_EQ(problems.size(), 3u);
    EXPECT_NE(problems[0].find("set_by must be guest or operator"), std::string::npos);
    EXPECT_NE(problems[1].find("'type' must be one of"), std::string::npos);
    for (const char* text : {"", "{", "[]", R"({"version": 2, "domains": {}})"}) {
        problems.clear();
        EXPECT_FALSE(parseLegacyHostPolicies(text, problems)) << text;
        EXPECT_EQ(problems.size(), 1u) << text;
    }
}

TEST(IntentFile, ARunIsContinuedOnlyWithTheSameIdAndStartTime) {
    EXPECT_TRUE((DomainRun{7, 100}).continues({7, 100}));
    EXPECT_TRUE((DomainRun{7, 100}).continues({7, 0}));  // kept without a start time
    EXPECT_FALSE((DomainRun{8, 100}).continues({7, 100}));
    EXPECT_FALSE((DomainRun{7, 101}).continues({7, 100}));  // the id given again
}

}  // namespace
}  // namespace vmpower

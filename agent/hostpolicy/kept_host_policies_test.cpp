#include "kept_host_policies.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "temp_dir.h"

namespace vmpower {
namespace {

constexpr const char* kUuid = "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e";

KeptHostPolicies sample() {
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
    return {{kUuid, {"vm1", 7, PolicyOrigin::Guest, time}},
            {"00000000-0000-0000-0000-000000000002", {"vm2", 3, PolicyOrigin::Operator, workload}}};
}

TEST(KeptHostPolicies, WrittenAndReadBackUnchanged) {
    std::vector<std::string> problems;
    const std::string text = keptHostPoliciesText(sample());
    EXPECT_NE(text.find("\"busy_hours\": \"9-11\""), std::string::npos) << text;
    EXPECT_EQ(parseKeptHostPolicies(text, problems), sample());
    EXPECT_TRUE(problems.empty());
}

TEST(KeptHostPolicies, ABadEntryIsLeftOutTheRestKept) {
    std::vector<std::string> problems;
    auto kept = parseKeptHostPolicies(R"({"version": 1, "domains": {
      "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e": {"name": "vm1", "domain_id": 7, "set_by": "guest",
         "policy": {"type": "workload", "vcpus": "0", "workload": "high"}},
      "00000000-0000-0000-0000-000000000002": {"name": "vm2", "domain_id": 3, "set_by": "rule",
         "policy": {"type": "workload", "vcpus": "0"}},
      "00000000-0000-0000-0000-000000000003": {"name": "vm3", "domain_id": 3, "set_by": "guest",
         "policy": {"type": "weather", "vcpus": "0"}},
      "not-a-uuid": {}}})",
                                      problems);
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept.at(kUuid).policy.workload, Workload::High);
    ASSERT_EQ(problems.size(), 3u);
    EXPECT_NE(problems[0].find("set_by must be guest or operator"), std::string::npos);
    EXPECT_NE(problems[1].find("'type' must be one of"), std::string::npos);
}

TEST(KeptHostPolicies, AnUnreadableFileKeepsNothing) {
    for (const char* text : {"", "{", "[]", R"({"version": 2, "domains": {}})"}) {
        std::vector<std::string> problems;
        EXPECT_TRUE(parseKeptHostPolicies(text, problems).empty()) << text;
        EXPECT_EQ(problems.size(), 1u) << text;
    }
    std::vector<std::string> problems;
    EXPECT_TRUE(readKeptHostPolicies("/nonexistent/host-policies.json", problems).empty());
    EXPECT_TRUE(problems.empty());
}

TEST(KeptHostPolicies, ALinkOrAFifoAtTheFileIsRefusedWithAProblem) {
    test::TempDir dir;
    const auto target = dir.path() / "elsewhere.json";
    std::ofstream(target) << keptHostPoliciesText(sample());
    const auto link = dir.path() / "host-policies.json";
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    std::vector<std::string> problems;
    EXPECT_TRUE(readKeptHostPolicies(link, problems).empty());
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0],
              "not read: " + link.string() + ": is a symbolic link; refusing to read it");

    const auto fifo = dir.path() / "fifo.json";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    problems.clear();
    EXPECT_TRUE(readKeptHostPolicies(fifo, problems).empty());  // at once: no writer comes
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find("is not a regular file"), std::string::npos) << problems[0];
}

}  // namespace
}  // namespace vmpower

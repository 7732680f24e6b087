// Host policies (PKT_POLICY / PKT_POLICY_REMOVE) end to end: records through
// channel sockets, the host policy engine and the arbiter, onto fixture
// sysfs trees. acpi-cpufreq fixture: pCPU N's policy is policyN for N < 2,
// 14 steps from 800000 to 3400000 kHz (the middle one, DPDK's n/2 of its
// descending list, is 2000000), found at schedutil with max 3400000.

#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <iterator>

#include "policy_test_fakes.h"
#include "request_path_world.h"

namespace vmpower::test {
namespace {

using namespace std::chrono_literals;

// The host's clock, set to a chosen local time and running on from there.
class RunningWall final : public WallClock {
  public:
    TimePoint now() const override { return base_ + (std::chrono::steady_clock::now() - set_at_); }
    void at(int hour, int min, int sec, int ms) {
        std::time_t t = std::time(nullptr);
        std::tm today{};
        localtime_r(&t, &today);
        base_ = vmpower::testing::localTime(today, hour, min, sec, ms);
        set_at_ = std::chrono::steady_clock::now();
    }

  private:
    TimePoint base_;
    std::chrono::steady_clock::time_point set_at_;
};

// Interface counters that grow at a set rate (packets per second),
// answered on the agent's loop `delay` after they are asked for, as the
// hypervisor's worker thread answers (one sample in flight at a time: the
// engine never asks twice at once, and a second ask would be a bug here).
class SteadyTraffic final : public TrafficSource {
  public:
    AsyncCall sample(std::vector<std::string> uuids, Done<TrafficSample> done) override {
        ++calls;
        EXPECT_FALSE(timer_.armed()) << "two samples in flight";
        auto [call, reply] = AsyncCall::start(std::move(done));
        reply_ = std::move(reply);
        asked_ = std::move(uuids);
        timer_.arm(delay);
        return std::move(call);
    }
    bool inFlight() const { return timer_.armed(); }
    double rate = 0;
    int calls = 0;
    std::chrono::milliseconds delay{0};

  private:
    void answer() {
        const auto now = std::chrono::steady_clock::now();
        total_ += rate * std::chrono::duration<double>(now - last_).count();
        last_ = now;
        TrafficSample out;
        for (const auto& u : asked_) {
            out[u] = {InterfaceCounters{"vnet0", std::nullopt, static_cast<std::uint64_t>(total_)}};
        }
        auto reply = std::move(reply_);
        reply(std::move(out));
    }

    double total_ = 0;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
    std::vector<std::string> asked_;
    std::function<void(Checked<TrafficSample>)> reply_;
    EventLoop::Timer timer_{[this] { answer(); }};
};

class FixedRatioBranches final : public BranchCounterSource {
  public:
    Verdict open(std::string_view, std::string_view, const std::vector<unsigned>&) override {
        return Verdict::accepted();
    }
    void close(std::string_view) override {}
    std::optional<BranchCounts> read(std::string_view) override {
        counts_.branches += 100000;
        counts_.misses += static_cast<std::uint64_t>(ratio * 100000);
        return counts_;
    }
    double ratio = 0;

  private:
    BranchCounts counts_;
};

class HostPolicies : public RequestPath {
  protected:
    // One VM "dpdk", vCPU 0 on pCPU 1 (policy1), its QEMU threads there too.
    void startOne(const std::string& rules = "  - name: \"*\"\n") {
        start("acpi-cpufreq", {{"dpdk", {"1"}, 1, "1"}}, rules);
    }
    // "dpdk" measured by `traffic` (100000 packets/s), its TRAFFIC policy
    // on vCPU 0 ACKed (middle 1000, max 50000 packets/s).
    void startTraffic(SteadyTraffic& traffic) {
        traffic_ = &traffic;
        startOne();
        Policy464 p;
        p.type = 0;
        p.middle_pps = 1000;
        p.max_pps = 50000;
        traffic.rate = 100000;
        expectReply("dpdk", 0, policyRecord(p), VMPOWER_CMD_ACK);
    }
    // TIME on vCPU 0: 9 o'clock busy, 10 and 11 quiet.
    static Policy464 busy9Quiet10And11() {
        Policy464 p;
        p.type = 1;
        p.busy = {9};
        p.quiet = {10, 11};
        return p;
    }
    std::string setspeed1() { return fixture_->read(kPolicy1 + "scaling_setspeed"); }
    bool waitForSetspeed1(const std::string& want, std::chrono::milliseconds timeout = 5s) {
        return runUntil(
            *agent_, [&] { return setspeed1() == want; }, timeout);
    }
    // A REMOVE is never answered: check that nothing comes back.
    void sendRemove(const std::string& vm) {
        ASSERT_TRUE(q(vm, 0).sendAll(*agent_, packet(VMPOWER_PKT_POLICY_REMOVE, 0)));
        runUntil(
            *agent_, [] { return false; }, 200ms);
        ASSERT_TRUE(q(vm, 0).pump());
        EXPECT_TRUE(q(vm, 0).inbox().empty()) << "a reply to PKT_POLICY_REMOVE";
    }
};

TEST_F(HostPolicies, WorkloadHighMediumLowThenRemoveRestoresTheTree) {
    startOne();
    Policy464 p;
    for (auto [workload, khz] : {std::pair{0, 3400000u}, {1, 2000000u}, {2, 800000u}}) {
        p.workload = workload;
        expectReply("dpdk", 0, policyRecord(p), VMPOWER_CMD_ACK);
        EXPECT_EQ(fixture_->read(kPolicy1 + "scaling_governor"), "userspace\n");
        EXPECT_EQ(setspeed1(), line(khz)) << "workload " << workload;
    }
    EXPECT_EQ(channel("dpdk", 0).stats().requests.acked, 3u);
    sendRemove("dpdk");
    // Nobody holds policy1 any more: it is as found.
    EXPECT_EQ(changed(), std::vector<std::string>{});
    stopAgent();
    expectTreeAsBefore();
}

TEST_F(HostPolicies, RemoveGivesTheVcpuBackToWhatTheVmHeldBefore) {
    startOne();
    expectReply("dpdk", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    ASSERT_EQ(setspeed1(), line(800000));
    Policy464 p;  // WORKLOAD HIGH
    expectReply("dpdk", 0, policyRecord(p), VMPOWER_CMD_ACK);
    EXPECT_EQ(setspeed1(), line(3400000));
    sendRemove("dpdk");
    EXPECT_EQ(setspeed1(), line(800000));
    // A second REMOVE (none left) changes nothing and is not answered either.
    sendRemove("dpdk");
    EXPECT_EQ(setspeed1(), line(800000));
}

TEST_F(HostPolicies, AnotherVmsNameInTheRecordIsIgnored) {
    // a: vCPU 0 on pCPU 0 (policy0); b: vCPU 0 on pCPU 1 (policy1).
    start("acpi-cpufreq", {{"a", {"0"}, 1, "0"}, {"b", {"1"}, 1, "1"}}, "  - name: \"*\"\n");
    Policy464 p;
    p.vm_name = "b";
    expectReply("a", 0, policyRecord(p), VMPOWER_CMD_ACK);
    const Files want{{kPolicy0 + "scaling_governor", "userspace\n"},
                     {kPolicy0 + "scaling_setspeed", "3400000\n"}};
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);
    // b's REMOVE is b's: a's policy stays.
    sendRemove("b");
    EXPECT_EQ(changed(), keys(want));
    ASSERT_TRUE(agent_->hostPolicy(uuids_["a"]));
    EXPECT_FALSE(agent_->hostPolicy(uuids_["b"]));
}

TEST_F(HostPolicies, APolicyCannotSlowACpuAnotherVmRunsOn) {
    // a and b both on pCPU 1: slowing it needs both to ask.
    start("acpi-cpufreq", {{"a", {"1"}, 1, "1"}, {"b", {"1"}, 1, "1"}}, "  - name: \"*\"\n");
    Policy464 low;
    low.workload = 2;
    expectReply("a", 0, policyRecord(low), VMPOWER_CMD_NACK);
    EXPECT_EQ(changed(), std::vector<std::string>{});
    EXPECT_FALSE(agent_->hostPolicy(uuids_["a"])) << "a refused policy is not kept";
    // Max is a raise: allowed.
    expectReply("a", 0, policyRecord(Policy464{}), VMPOWER_CMD_ACK);
    EXPECT_EQ(setspeed1(), line(3400000));
    // Once b holds a level too, both slow it together.
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    EXPECT_EQ(setspeed1(), line(3400000));  // a's policy holds max: highest wins
    expectReply("a", 0, policyRecord(low), VMPOWER_CMD_ACK);
    EXPECT_EQ(setspeed1(), line(800000));
}

TEST_F(HostPolicies, TheRuleDecidesWhichTypesAndTheRateLimitApplies) {
    startOne(
        "  - name: dpdk\n"
        "    policies: [time]\n"
        "    rate: 1\n"
        "    burst: 2\n");
    expectReply("dpdk", 0, policyRecord(Policy464{}), VMPOWER_CMD_NACK);  // WORKLOAD: not allowed
    Policy464 time;
    time.type = 1;
    expectReply("dpdk", 0, policyRecord(time), VMPOWER_CMD_ACK);
    expectReply("dpdk", 0, policyRecord(time), VMPOWER_CMD_NACK);  // over the rate
    EXPECT_EQ(channel("dpdk", 0).stats().requests.rate_limited, 1u);
    // Malformed: vCPU 1 of a 1-vCPU VM.
    Policy464 bad;
    bad.vcpus = {1};
    runUntil(
        *agent_, [] { return false; }, 1100ms);  // a token back
    expectReply("dpdk", 0, policyRecord(bad), VMPOWER_CMD_NACK);
    EXPECT_EQ(changed(), std::vector<std::string>{});
}

TEST_F(HostPolicies, TimeCrossesIntoBusyThenQuietHoursOnTheAgentsTimer) {
    RunningWall wall;
    wall_clock_ = &wall;
    startOne();
    wall.at(8, 59, 59, 500);
    Policy464 p = busy9Quiet10And11();
    expectReply("dpdk", 0, policyRecord(p), VMPOWER_CMD_ACK);
    EXPECT_EQ(changed(), std::vector<std::string>{}) << "8:59 is in no list";
    EXPECT_TRUE(waitForSetspeed1(line(3400000))) << "9:00 is busy";
    EXPECT_EQ(agent_->hostPolicy(uuids_["dpdk"])->decision, "hour 9 is busy: max");

    // The host's clock moves on to the end of 9 o'clock; the guest sends its
    // policy again (as DPDK's guests do on start), which arms the timer anew.
    wall.at(9, 59, 59, 500);
    expectReply("dpdk", 0, policyRecord(p), VMPOWER_CMD_ACK);
    EXPECT_EQ(setspeed1(), line(3400000));
    EXPECT_TRUE(waitForSetspeed1(line(800000))) << "10:00 is quiet";
    sendRemove("dpdk");
    EXPECT_EQ(changed(), std::vector<std::string>{});
}

// `commands: []` shuts a VM out by every route: its own records, its
// PKT_POLICY, and the rule's own host_policy; nothing moves.
TEST_F(HostPolicies, EmptyCommandsRefuseEveryPolicyAndNothingMoves) {
    startOne(
        "  - name: dpdk\n"
        "    commands: []\n"
        "    host_policy: {type: workload, vcpus: [0], workload: low}\n");
    EXPECT_FALSE(agent_->hostPolicy(uuids_["dpdk"])) << "the rule's own LOW is refused";
    Policy464 low;
    low.workload = 2;
    expectReply("dpdk", 0, policyRecord(low), VMPOWER_CMD_NACK);
    expectReply("dpdk", 0, policyRecord(Policy464{}), VMPOWER_CMD_NACK);  // HIGH too
    expectReply("dpdk", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_NACK);
    EXPECT_FALSE(agent_->hostPolicy(uuids_["dpdk"]));
    EXPECT_EQ(changed(), std::vector<std::string>{});
    stopAgent();
    expectTreeAsBefore();
}

// A raise-only rule: its TIME policy holds max in busy hours, and quiet
// hours, which would mean min, are refused (shown by show-vm) while max holds.
TEST_F(HostPolicies, ARaiseOnlyVmsTimePolicyCannotLower) {
    RunningWall wall;
    wall_clock_ = &wall;
    startOne(
        "  - name: dpdk\n"
        "    commands: [up, max]\n");
    wall.at(9, 59, 59, 500);
    Policy464 p = busy9Quiet10And11();
    expectReply("dpdk", 0, policyRecord(p), VMPOWER_CMD_ACK);
    EXPECT_EQ(setspeed1(), line(3400000));
    EXPECT_TRUE(runUntil(
        *agent_, [&] { return !agent_->hostPolicy(uuids_["dpdk"])->refusal.empty(); }, 5s))
        << "10:00 is quiet";
    EXPECT_EQ(agent_->hostPolicy(uuids_["dpdk"])->refusal, "the rule does not allow 'min'");
    EXPECT_EQ(setspeed1(), line(3400000));
    // Quiet from the start: the first decision is refused, NACK.
    wall.at(10, 30, 0, 0);
    p.busy = {};
    expectReply("dpdk", 0, policyRecord(p), VMPOWER_CMD_NACK);
    EXPECT_EQ(setspeed1(), line(3400000)) << "the policy before holds";
}

TEST_F(HostPolicies, TrafficFollowsThePacketRateOfTheVmsInterfaces) {
    SteadyTraffic traffic;
    startTraffic(traffic);
    EXPECT_TRUE(waitForSetspeed1(line(3400000)));
    traffic.rate = 5000;
    EXPECT_TRUE(waitForSetspeed1(line(2000000)));
    traffic.rate = 10;
    EXPECT_TRUE(waitForSetspeed1(line(800000)));
    EXPECT_GE(traffic.calls, 4);
}

// A statistics source that takes 2 s to answer never slows the loop: the
// VM's own requests (in their slot beside the policy's) are answered at
// once meanwhile, and the engine waits for the answer rather than asking
// again.
TEST_F(HostPolicies, ASlowTrafficSourceNeverSlowsTheLoop) {
    SteadyTraffic traffic;
    traffic.delay = 2s;
    startTraffic(traffic);
    ASSERT_TRUE(runUntil(*agent_, [&] { return traffic.inFlight(); }));
    for (auto action : {VMPOWER_SCALE_MIN, VMPOWER_SCALE_MAX, VMPOWER_SCALE_MIN}) {
        const auto asked = std::chrono::steady_clock::now();
        expectReply("dpdk", 0, cpuPower(0, action), VMPOWER_CMD_ACK);
        EXPECT_LT(std::chrono::steady_clock::now() - asked, 100ms) << "waited on the sample";
        EXPECT_TRUE(traffic.inFlight());
    }
    EXPECT_EQ(traffic.calls, 1);
    ASSERT_TRUE(runUntil(
        *agent_, [&] { return !traffic.inFlight(); }, 5s));
    const auto sampling = agent_->hostPolicy(uuids_["dpdk"])->traffic;
    ASSERT_TRUE(sampling);
    // The loop's timers have millisecond grain: 2 s may measure 1999 ms.
    EXPECT_GE(sampling->interval, 3900ms) << "twice the last sample's 2 s";
    EXPECT_GE(sampling->last_duration, 1950ms);
}

TEST_F(HostPolicies, BranchRatioFollowsTheVcpuThreadsCounters) {
    FixedRatioBranches branches;
    branch_counters_ = &branches;
    startOne();
    Policy464 p;
    p.type = 3;
    branches.ratio = 0.5;
    expectReply("dpdk", 0, policyRecord(p), VMPOWER_CMD_ACK);
    EXPECT_TRUE(waitForSetspeed1(line(3400000)));
    branches.ratio = 0.01;
    EXPECT_TRUE(waitForSetspeed1(line(800000)));
    stopAgent();  // before `branches` goes: the engine closes its counters
}

// ---- the rule's policy (host_policy:), precedence, kept across a restart

TEST_F(HostPolicies, TheRulesPolicyIsHeldFromTheStartGuestsReplaceItRemoveBringsItBack) {
    startOne(
        "  - name: dpdk\n"
        "    host_policy: {type: workload, vcpus: [0], workload: low}\n");
    EXPECT_TRUE(waitForSetspeed1(line(800000))) << "the rule's LOW from the start";
    EXPECT_EQ(agent_->hostPolicy(uuids_["dpdk"])->origin, PolicyOrigin::Rule);
    expectReply("dpdk", 0, policyRecord(Policy464{}), VMPOWER_CMD_ACK);  // the guest's HIGH
    EXPECT_EQ(setspeed1(), line(3400000));
    EXPECT_EQ(agent_->hostPolicy(uuids_["dpdk"])->origin, PolicyOrigin::Guest);
    sendRemove("dpdk");
    EXPECT_EQ(setspeed1(), line(800000)) << "back to the rule's";
    EXPECT_EQ(agent_->hostPolicy(uuids_["dpdk"])->origin, PolicyOrigin::Rule);

    // A reload follows the file: MEDIUM now, then no host_policy at all.
    writeConfig("  - name: dpdk\n    host_policy: {type: workload, vcpus: 0, workload: medium}\n");
    ASSERT_TRUE(agent_->reload());
    EXPECT_EQ(setspeed1(), line(2000000));
    writeConfig("  - name: dpdk\n    host_policy: {type: worklaod, vcpus: 0}\n");
    const Verdict refused = agent_->reload();
    const std::string& why = refused.reason();
    EXPECT_FALSE(refused);
    EXPECT_NE(why.find("host_policy: 'type' must be one of"), std::string::npos) << why;
    EXPECT_EQ(setspeed1(), line(2000000)) << "a refused file changes nothing";
    writeConfig("  - name: dpdk\n");
    ASSERT_TRUE(agent_->reload());
    EXPECT_FALSE(agent_->hostPolicy(uuids_["dpdk"]));
    EXPECT_EQ(changed(), std::vector<std::string>{});
}

std::string readFile(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(HostPolicies, AGuestsPolicyIsKeptAcrossAnAgentRestart) {
    startOne("  - name: dpdk\n    host_policy: {type: workload, vcpus: 0, workload: low}\n");
    Policy464 p;  // WORKLOAD HIGH
    expectReply("dpdk", 0, policyRecord(p), VMPOWER_CMD_ACK);
    ASSERT_EQ(setspeed1(), line(3400000));
    const auto file = dir_.path() / "state" / "intents.json";
    // Written within a quarter of a second (coalesced).
    ASSERT_TRUE(runUntil(
        *agent_, [&] { return readFile(file).find("\"workload\": \"high\"") != std::string::npos; },
        5s));

    restartAgent();
    EXPECT_TRUE(waitForSetspeed1(line(3400000))) << "the guest's HIGH, not the rule's LOW";
    auto v = agent_->hostPolicy(uuids_["dpdk"]);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->origin, PolicyOrigin::Guest);
    EXPECT_EQ(v->policy.workload, Workload::High);

    // Removed: the rule's policy again, and after a restart too.
    sendRemove("dpdk");
    EXPECT_EQ(setspeed1(), line(800000));
    restartAgent();
    EXPECT_TRUE(waitForSetspeed1(line(800000)));
    EXPECT_EQ(agent_->hostPolicy(uuids_["dpdk"])->origin, PolicyOrigin::Rule);
}

// The older store, host-policies.json, is carried into intents.json at
// start and renamed aside: its policies of gone or restarted domains are
// dropped, the same run's applied.
TEST_F(HostPolicies, TheOlderStoresPoliciesOfGoneOrRestartedDomainsAreDropped) {
    startOne();
    const int id = agent_->registry().find(uuids_["dpdk"])->id;
    stopAgent();
    const auto legacy = dir_.path() / "state" / "host-policies.json";
    const auto file = dir_.path() / "state" / "intents.json";
    std::filesystem::create_directories(file.parent_path());
    auto entry = [](const std::string& uuid, const std::string& name, int domain_id) {
        return "\"" + uuid + "\": {\"name\": \"" + name +
               "\", \"domain_id\": " + std::to_string(domain_id) +
               ", \"set_by\": \"guest\", \"policy\": {\"type\": \"workload\", \"vcpus\": "
               "\"0\", \"workload\": \"high\"}}";
    };
    // dpdk's entry is from an earlier run of the domain (another id); the
    // other domain is not running.
    writeFile(legacy, "{\"version\": 1, \"domains\": {" + entry(uuids_["dpdk"], "dpdk", id + 1) +
                          ", " + entry(uuidOf(7), "gone", 3) + "}}");
    startAgent();
    EXPECT_FALSE(std::filesystem::exists(legacy)) << "one store from here on";
    EXPECT_TRUE(std::filesystem::exists(legacy.string() + ".migrated"));
    EXPECT_FALSE(agent_->hostPolicy(uuids_["dpdk"]));
    EXPECT_EQ(changed(), std::vector<std::string>{});
    ASSERT_TRUE(runUntil(
        *agent_, [&] { return readFile(file).find("\"domains\": {}") != std::string::npos; }, 5s))
        << readFile(file);

    // The same entry with the domain's id is applied.
    stopAgent();
    writeFile(legacy, "{\"version\": 1, \"domains\": {" + entry(uuids_["dpdk"], "dpdk", id) + "}}");
    startAgent();
    EXPECT_TRUE(waitForSetspeed1(line(3400000)));
    ASSERT_TRUE(runUntil(
        *agent_, [&] { return readFile(file).find("\"workload\": \"high\"") != std::string::npos; },
        5s))
        << readFile(file);
}

}  // namespace
}  // namespace vmpower::test

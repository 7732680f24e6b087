// Issue 10, end to end through real sockets on libvirt's test driver: a guest
// never slows what it does not own. Every case of docs/policy.md's "Shared
// hardware" table is here (or, for the host_cpus key, in
// agent/cpufreq/arbiter_test.cpp). Expected values are worked out from the
// fixture trees: acpi-cpufreq (800000..3400000, cur 1600000, found max
// 3400000; policy2 = CPUs 2-3; global cpufreq/boost), cppc_cpufreq (policy0
// = CPUs 0-1, policy2 = CPUs 2-3; found max 3000000), intel_pstate (one
// policy per CPU; global intel_pstate/no_turbo), amd-pstate (one policy per
// CPU, each with its own boost).

#include <gtest/gtest.h>

#include "log_capture.h"
#include "request_path_world.h"

namespace vmpower::test {
namespace {

using namespace std::chrono_literals;

const std::string kBoost = kCpu + "cpufreq/boost";
const std::string kNoTurbo = kCpu + "intel_pstate/no_turbo";

std::string policyFile(int n, const char* attr) {
    return kCpu + "cpufreq/policy" + std::to_string(n) + "/" + attr;
}

class SharedHardware : public RequestPath {
  protected:
    void destroy(const std::string& vm) {
        auto dom = lookup(*agent_, vm);
        ASSERT_EQ(virDomainDestroy(dom.get()), 0);
        ASSERT_TRUE(
            runUntil(*agent_, [&] { return agent_->registry().find(uuids_[vm]) == nullptr; }));
    }
    void create(const std::string& vm) {
        auto dom = lookup(*agent_, vm);
        ASSERT_EQ(virDomainCreate(dom.get()), 0);
        ASSERT_TRUE(
            runUntil(*agent_, [&] { return agent_->registry().find(uuids_[vm]) != nullptr; }));
    }
    std::string refusal(const std::string& vm) { return power_->lastRefusal(uuids_.at(vm)); }
};

// ---- the three cases

TEST_F(SharedHardware, UnpinnedPairNeitherMaySlowAnythingBothMayRaise) {
    // Neither VM pins anything: libvirt reports every vCPU on every host CPU.
    start("acpi-cpufreq", {{"a", {""}}, {"b", {""}}}, "  - name: \"*\"\n");
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_NACK);
    EXPECT_EQ(changed(), std::vector<std::string>{}) << "b asked for nothing";
    EXPECT_NE(refusal("a").find("shared with b,"), std::string::npos) << refusal("a");
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_DOWN), VMPOWER_CMD_NACK);
    expectReply("a", 0, cpuPower(0, VMPOWER_DISABLE_TURBO), VMPOWER_CMD_NACK);
    EXPECT_EQ(changed(), std::vector<std::string>{});
    // A raise slows nobody: every policy at the found ceiling.
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    for (const auto& p : {kPolicy0, kPolicy1, kPolicy2}) {
        EXPECT_EQ(fixture_->read(p + "scaling_setspeed"), "3400000\n") << p;
    }
    // b holds max; a holding nothing still refuses b's way down.
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_DOWN), VMPOWER_CMD_NACK);
    EXPECT_EQ(fixture_->read(kPolicy2 + "scaling_setspeed"), "3400000\n");
    stopAgent();
    expectTreeAsBefore();
}

struct SharedPolicyCase {
    std::string driver;
    std::string a_cpu, b_cpu;  // on one policy
    int policy;
    std::string top;     // the found ceiling, a raise
    std::string bottom;  // the lowest step
};

class SharedPolicy : public SharedHardware,
                     public ::testing::WithParamInterface<SharedPolicyCase> {};

TEST_P(SharedPolicy, ALoneMinIsRefusedNamingBAndAMaxIsServed) {
    const auto& c = GetParam();
    start(c.driver, {{"a", {c.a_cpu}, -1, c.a_cpu}, {"b", {c.b_cpu}, -1, c.b_cpu}},
          "  - name: \"*\"\n");
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_NACK);
    EXPECT_EQ(changed(), std::vector<std::string>{});
    EXPECT_NE(refusal("a").find("policy" + std::to_string(c.policy)), std::string::npos);
    EXPECT_NE(refusal("a").find("shared with b,"), std::string::npos) << refusal("a");
    // show-vm carries the refusal too.
    auto vm = agent_->control({{"cmd", "show-vm"}, {"name", "a"}});
    EXPECT_EQ(vm["last_power_refusal"], refusal("a"));

    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);  // a raise
    const std::string level = c.driver == "acpi-cpufreq" ? "scaling_setspeed" : "scaling_min_freq";
    EXPECT_EQ(fixture_->read(policyFile(c.policy, level.c_str())), c.top + "\n");
    // b joins in: now both hold, b's min is arbitrated (a's max wins)...
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(policyFile(c.policy, level.c_str())), c.top + "\n");
    // ... and a may now go down with it.
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    const std::string low = c.driver == "acpi-cpufreq" ? "scaling_setspeed" : "scaling_max_freq";
    EXPECT_EQ(fixture_->read(policyFile(c.policy, low.c_str())), c.bottom + "\n");
    auto cpu = agent_->control({{"cmd", "show-cpu-freq"}, {"cpu", std::stoi(c.a_cpu)}});
    EXPECT_EQ(cpu["policy"]["stakeholders"], (nlohmann::json{"a", "b"}));
    EXPECT_EQ(cpu["policy"]["consent"], true);
    stopAgent();
    expectTreeAsBefore();
}

INSTANTIATE_TEST_SUITE_P(
    Trees, SharedPolicy,
    ::testing::Values(SharedPolicyCase{"acpi-cpufreq", "2", "3", 2, "3400000", "800000"},
                      SharedPolicyCase{"cppc_cpufreq", "0", "1", 0, "3000000", "1000000"},
                      SharedPolicyCase{"cppc_cpufreq", "3", "2", 2, "3000000", "1000000"}),
    [](const auto& p) {
        std::string n = p.param.driver + "_policy" + std::to_string(p.param.policy);
        for (char& ch : n) {
            if (ch == '-') ch = '_';
        }
        return n;
    });

struct TurboCase {
    std::string driver;
    std::string file;
    std::string on, off;
};

class GlobalTurbo : public SharedHardware, public ::testing::WithParamInterface<TurboCase> {};

TEST_P(GlobalTurbo, OffOnlyWhenEveryVmAsked) {
    const auto& c = GetParam();
    start(c.driver, {{"a", {"0"}, -1, "0"}, {"b", {"1"}, -1, "1"}}, "  - name: \"*\"\n");
    expectReply("a", 0, cpuPower(0, VMPOWER_DISABLE_TURBO), VMPOWER_CMD_NACK);
    EXPECT_EQ(changed(), std::vector<std::string>{});
    EXPECT_NE(refusal("a").find("shared with b,"), std::string::npos) << refusal("a");
    expectReply("b", 0, cpuPower(0, VMPOWER_ENABLE_TURBO), VMPOWER_CMD_ACK);  // always allowed
    EXPECT_EQ(fixture_->read(c.file), c.on);
    expectReply("a", 0, cpuPower(0, VMPOWER_DISABLE_TURBO), VMPOWER_CMD_ACK);  // b holds a wish
    EXPECT_EQ(fixture_->read(c.file), c.on) << "on while anyone wants it on";
    expectReply("b", 0, cpuPower(0, VMPOWER_DISABLE_TURBO), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(c.file), c.off) << "both asked";
    destroy("b");
    EXPECT_EQ(fixture_->read(c.file), c.off) << "a alone still wants it off";
    stopAgent();
    expectTreeAsBefore();
}

INSTANTIATE_TEST_SUITE_P(Trees, GlobalTurbo,
                         ::testing::Values(TurboCase{"acpi-cpufreq", kBoost, "1\n", "0\n"},
                                           TurboCase{"intel_pstate", kNoTurbo, "0\n", "1\n"}),
                         [](const auto& p) {
                             std::string n = p.param.driver;
                             for (char& ch : n) {
                                 if (ch == '-') ch = '_';
                             }
                             return n;
                         });

TEST_F(SharedHardware, PerPolicyBoostIsOnlyItsOwnVmsBusiness) {
    // amd-pstate: each policy has its own boost; the global one is not used.
    start("amd-pstate", {{"a", {"0"}, -1, "0"}, {"b", {"1"}, -1, "1"}}, "  - name: \"*\"\n");
    expectReply("a", 0, cpuPower(0, VMPOWER_DISABLE_TURBO), VMPOWER_CMD_ACK);
    EXPECT_EQ(changed(), (std::vector<std::string>{policyFile(0, "boost")}));
    EXPECT_EQ(fixture_->read(policyFile(0, "boost")), "0\n");
    stopAgent();
    expectTreeAsBefore();
}

TEST_F(SharedHardware, PerPolicyBoostSharedThroughEmulatorThreadsIsRefused) {
    // b's emulator threads may run on CPU 0, a's policy.
    start("amd-pstate", {{"a", {"0"}, -1, "0"}, {"b", {"1"}, -1, "0-1"}}, "  - name: \"*\"\n");
    expectReply("a", 0, cpuPower(0, VMPOWER_DISABLE_TURBO), VMPOWER_CMD_NACK);
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_NACK);
    EXPECT_EQ(changed(), std::vector<std::string>{});
    EXPECT_NE(refusal("a").find("shared with b,"), std::string::npos) << refusal("a");
    stopAgent();
    expectTreeAsBefore();
}

// ---- positive control: the zero-touch DPDK set-up still scales

TEST_F(SharedHardware, APinnedVmAloneOnItsCpuGoesDownAndUp) {
    start("acpi-cpufreq", {{"dpdk", {"1"}, -1, "0"}, {"other", {"2"}, -1, "2"}},
          "  - name: \"*\"\n");
    const std::string setspeed1 = kPolicy1 + "scaling_setspeed";
    expectReply("dpdk", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(setspeed1), "800000\n");
    expectReply("dpdk", 0, cpuPower(0, VMPOWER_SCALE_DOWN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(setspeed1), "800000\n");
    expectReply("dpdk", 0, cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(setspeed1), "1000000\n");
    expectReply("dpdk", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(setspeed1), "3400000\n");
    // Its emulator threads on CPU 0 do not make it a neighbour of "other".
    EXPECT_EQ(changed(), (std::vector<std::string>{kPolicy1 + "scaling_governor", setspeed1}));
    stopAgent();
    expectTreeAsBefore();
}

// ---- live: a neighbour starts, is re-pinned, leaves

TEST_F(SharedHardware, ANeighbourStartingOnASlowedPolicyRaisesItAndItsLeavingReappliesTheHolds) {
    start("acpi-cpufreq", {{"a", {"2"}, -1, "2"}, {"c", {"3"}, -1, "3"}}, "  - name: \"*\"\n");
    destroy("c");
    const std::string setspeed2 = kPolicy2 + "scaling_setspeed";
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);  // alone on policy2
    EXPECT_EQ(fixture_->read(setspeed2), "800000\n");

    create("c");  // must not inherit a slowed CPU
    EXPECT_EQ(changed(), std::vector<std::string>{}) << "policy2 back as found";
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_NACK);
    EXPECT_NE(refusal("a").find("shared with c,"), std::string::npos) << refusal("a");

    destroy("c");  // a's hold, kept all along, takes effect again
    EXPECT_EQ(fixture_->read(setspeed2), "800000\n");
    stopAgent();
    expectTreeAsBefore();
}

TEST_F(SharedHardware, ANeighbourRepinnedOntoASlowedPolicyRaisesItAndBack) {
    start("acpi-cpufreq", {{"a", {"2"}, -1, "2"}, {"b", {"0"}, -1, "0"}}, "  - name: \"*\"\n");
    const std::string setspeed2 = kPolicy2 + "scaling_setspeed";
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(setspeed2), "800000\n");

    // The test driver emits no TUNABLE events: inject them as libvirt would.
    agent_->hypervisor().handleTunable(uuids_["b"], {{"cputune.vcpupin0", "3"}});
    EXPECT_EQ(changed(), std::vector<std::string>{}) << "policy2 back as found";
    agent_->hypervisor().handleTunable(uuids_["b"], {{"cputune.vcpupin0", "0"}});
    EXPECT_EQ(fixture_->read(setspeed2), "800000\n") << "a's hold is in force again";
    // Emulator threads re-pinned onto CPU 3 count the same.
    agent_->hypervisor().handleTunable(uuids_["b"], {{"cputune.emulatorpin", "0,3"}});
    EXPECT_EQ(changed(), std::vector<std::string>{});
    agent_->hypervisor().handleTunable(uuids_["b"], {{"cputune.emulatorpin", "0"}});
    EXPECT_EQ(fixture_->read(setspeed2), "800000\n");
    stopAgent();
    expectTreeAsBefore();
}

// ---- host CPUs, PHYSICAL, the operator

TEST_F(SharedHardware, HostCpusFromIsolatedAreStakeholdersThatNeverAsk) {
    // isolcpus=1-3: CPU 0 is the host's. cppc: policy0 = CPUs 0-1.
    extra_agent_yaml_.clear();  // agent.host_cpus unset: from `isolated`
    start("cppc_cpufreq", {{"a", {"1"}, -1, "1"}, {"b", {"2"}, -1, "2"}}, "  - name: \"*\"\n",
          {{kCpu + "isolated", "1-3\n"}});
    EXPECT_EQ(power_->hostCpus().toString(), "0");
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_NACK);
    EXPECT_NE(refusal("a").find("host CPU 0"), std::string::npos) << refusal("a");
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);  // isolated, alone
    EXPECT_EQ(fixture_->read(policyFile(2, "scaling_max_freq")), "1000000\n");
    stopAgent();
    expectTreeAsBefore();
}

TEST_F(SharedHardware, NothingIsolatedAndHostCpusUnsetTheHostKeepsTurbo) {
    // Issue 25: one VM alone on a host that isolates nothing and did not say
    // which CPUs are its own. The host's tasks may run anywhere: no VM turns
    // the host-wide turbo off, and vmpowerd said so at start.
    extra_agent_yaml_.clear();
    LogCapture log;
    start("intel_pstate", {{"a", {"1"}, -1, "1"}}, "  - name: \"*\"\n");
    const auto warning =
        log.linesWith({"warning", "no CPU is isolated and agent.host_cpus is unset",
                       "every CPU (0-3)", "host_cpus: 0-1"});
    EXPECT_EQ(warning.size(), 1u) << ::testing::PrintToString(log.lines());
    EXPECT_TRUE(power_->hostCpus().empty());
    expectReply("a", 0, cpuPower(0, VMPOWER_DISABLE_TURBO), VMPOWER_CMD_NACK);
    EXPECT_NE(refusal("a").find("the host (no CPU isolated"), std::string::npos) << refusal("a");
    EXPECT_EQ(changed(), std::vector<std::string>{});
    // Its own policy is its own business (docs/policy.md, "host_cpus default").
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    expectReply("a", 0, cpuPower(0, VMPOWER_ENABLE_TURBO), VMPOWER_CMD_ACK);
    stopAgent();
    expectTreeAsBefore();
}

TEST_F(SharedHardware, AnNfvHostSeesNoWarningAndTurboAsBefore) {
    // isolcpus=1-3 and a VM alone on CPU 1 of intel_pstate's no_turbo: the
    // host's CPU 0 is a stakeholder of the global switch, as before.
    extra_agent_yaml_.clear();
    LogCapture log;
    start("intel_pstate", {{"a", {"1"}, -1, "1"}}, "  - name: \"*\"\n",
          {{kCpu + "isolated", "1-3\n"}});
    EXPECT_TRUE(log.linesWith({"no CPU is isolated"}).empty());
    EXPECT_EQ(power_->hostCpus().toString(), "0");
    expectReply("a", 0, cpuPower(0, VMPOWER_DISABLE_TURBO), VMPOWER_CMD_NACK);
    EXPECT_NE(refusal("a").find("the host's own CPUs (agent.host_cpus)"), std::string::npos)
        << refusal("a");
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);  // isolated, alone
    stopAgent();
    expectTreeAsBefore();
}

TEST_F(SharedHardware, ANeighboursIothreadOnAPolicyIsAStakeholder) {
    // Issue 25: b's vCPU and emulator are on CPU 0, but its IOThread is
    // pinned to CPU 3, on a's policy2 (acpi-cpufreq: CPUs 2-3).
    start("acpi-cpufreq", {{"a", {"2"}, -1, "2"}, {"b", {"0"}, -1, "0", "3"}}, "  - name: \"*\"\n");
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_NACK);
    EXPECT_NE(refusal("a").find("shared with b,"), std::string::npos) << refusal("a");
    EXPECT_EQ(changed(), std::vector<std::string>{});
    auto cpu = agent_->control({{"cmd", "show-cpu-freq"}, {"cpu", 2}});
    EXPECT_EQ(cpu["policy"]["stakeholders"], (nlohmann::json{"a", "b"}));
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);  // a raise
    stopAgent();
    expectTreeAsBefore();
}

TEST_F(SharedHardware, AnUnpinnedIothreadRunsEverywhere) {
    // No <iothreadpin> and no <vcpu cpuset>: libvirt runs it on every host CPU.
    start("acpi-cpufreq", {{"a", {"2"}, -1, "2"}, {"b", {"0"}, -1, "0", "*"}}, "  - name: \"*\"\n");
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_NACK);
    EXPECT_NE(refusal("a").find("shared with b,"), std::string::npos) << refusal("a");
    stopAgent();
    expectTreeAsBefore();
}

TEST_F(SharedHardware, PhysicalRequestsObeyTheSameRule) {
    start("acpi-cpufreq", {{"phys", {"2"}, -1, "2"}, {"b", {"3"}, -1, "3"}},
          "  - name: phys\n"
          "    physical: true\n"
          "  - name: \"*\"\n");
    expectReply("phys", 0, withCoreType(cpuPower(2, VMPOWER_SCALE_MIN), VMPOWER_CORE_PHYSICAL),
                VMPOWER_CMD_NACK);
    EXPECT_EQ(changed(), std::vector<std::string>{});
    EXPECT_NE(refusal("phys").find("shared with b,"), std::string::npos) << refusal("phys");
    expectReply("phys", 0, withCoreType(cpuPower(2, VMPOWER_SCALE_MAX), VMPOWER_CORE_PHYSICAL),
                VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy2 + "scaling_setspeed"), "3400000\n");
    stopAgent();
    expectTreeAsBefore();
}

TEST_F(SharedHardware, TheOperatorMayOverrideAndIsToldWhomItAffects) {
    start("acpi-cpufreq", {{"a", {"2"}, -1, "2"}, {"b", {"3"}, -1, "3"}}, "  - name: \"*\"\n");
    auto reply = agent_->control({{"cmd", "set-cpu-freq"}, {"cpu", 2}, {"action", "min"}});
    ASSERT_EQ(reply["ok"], true) << reply.dump();
    EXPECT_EQ(reply["affects"], (nlohmann::json{"a", "b"}));
    EXPECT_EQ(fixture_->read(kPolicy2 + "scaling_setspeed"), "800000\n");
    auto cpu = agent_->control({{"cmd", "show-cpu-freq"}, {"cpu", 3}});
    EXPECT_EQ(cpu["policy"]["name"], "policy2");
    EXPECT_EQ(cpu["policy"]["cpus"], "2-3");
    EXPECT_EQ(cpu["policy"]["consent"], true);
    EXPECT_EQ(cpu["policy"]["holds"][0]["holder"], "operator");
    // The operator's decision holds: a VM's raise there is refused until
    // the operator releases the CPU, then taken.
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_NACK);
    EXPECT_EQ(fixture_->read(kPolicy2 + "scaling_setspeed"), "800000\n");
    auto released = agent_->control({{"cmd", "release-cpu-freq"}, {"cpu", 2}});
    ASSERT_EQ(released["ok"], true) << released.dump();
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy2 + "scaling_setspeed"), "3400000\n");
    stopAgent();
    expectTreeAsBefore();
}

// An operator's turbo-off survives a guest's ENABLE_TURBO (NACK, "held by
// the operator", shown by show-cpu-freq) until release-cpu-freq; then the
// guest's request is taken.
TEST_F(SharedHardware, TheOperatorsTurboOffHoldsUntilReleased) {
    start("acpi-cpufreq", {{"a", {"2"}, -1, "2"}}, "  - name: \"*\"\n");
    ASSERT_EQ(fixture_->read(kBoost), "1\n");
    auto off = agent_->control({{"cmd", "set-cpu-freq"}, {"cpu", 2}, {"action", "disable_turbo"}});
    ASSERT_EQ(off["ok"], true) << off.dump();
    EXPECT_EQ(fixture_->read(kBoost), "0\n");
    expectReply("a", 0, cpuPower(0, VMPOWER_ENABLE_TURBO), VMPOWER_CMD_NACK);
    EXPECT_EQ(fixture_->read(kBoost), "0\n");
    EXPECT_NE(refusal("a").find("held by the operator"), std::string::npos) << refusal("a");
    EXPECT_EQ(channel("a", 0)
                  .stats()
                  .requests.nacks_by_reason[static_cast<std::size_t>(NackReason::HeldByOperator)],
              1u);
    auto cpu = agent_->control({{"cmd", "show-cpu-freq"}, {"cpu", 2}});
    EXPECT_TRUE(cpu["policy"]["note"].get<std::string>().starts_with("held by the operator"))
        << cpu.dump();

    auto released = agent_->control({{"cmd", "release-cpu-freq"}, {"cpu", 2}});
    ASSERT_EQ(released["ok"], true) << released.dump();
    auto again = agent_->control({{"cmd", "release-cpu-freq"}, {"cpu", 2}});
    EXPECT_EQ(again["ok"], false) << "nothing held any more";
    EXPECT_EQ(fixture_->read(kBoost), "1\n") << "as found";
    expectReply("a", 0, cpuPower(0, VMPOWER_DISABLE_TURBO), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kBoost), "0\n");
    expectReply("a", 0, cpuPower(0, VMPOWER_ENABLE_TURBO), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kBoost), "1\n");
    stopAgent();
    expectTreeAsBefore();
}

}  // namespace
}  // namespace vmpower::test

// The command table on a fake agent: what each command asks of
// AgentOperations, and that nothing a handler meets escapes as an exception.
// (The commands on a real agent: tests/integration/vmpowerctl_test.cpp.)
#include "control_commands.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "control_protocol.h"
#include "energy_sampler.h"
#include "power_action.h"
#include "power_channel.h"
#include "sysfs_fixture.h"
#include "test_support.h"

namespace vmpower {
namespace {

using json = nlohmann::json;
namespace key = protocol::key;
namespace cmd = protocol::cmd;

constexpr const char* kUuid = "11111111-1111-1111-1111-111111111111";

class FakeAgent final : public AgentOperations {
  public:
    FakeAgent() {
        AccessRule lab;
        lab.name = "lab";
        lab.name_globs = {"vm*"};
        rules_ = std::make_shared<const AccessRules>(std::vector<AccessRule>{lab});
        DomainView d{"vm1", kUuid};
        d.vcpus = VcpuMap({CpuSet{2}});
        domains_.emplace(kUuid, std::move(d));
    }
    std::vector<DomainView> domains() const override {
        std::vector<DomainView> out;
        for (const auto& [uuid, d] : domains_) out.push_back(d);
        return out;
    }
    std::optional<DomainView> domain(std::string_view name_or_uuid) const override {
        for (const auto& [uuid, d] : domains_) {
            if (d.name == name_or_uuid || uuid == name_or_uuid) return d;
        }
        return std::nullopt;
    }
    HypervisorStatus hypervisorStatus() const override { return {"test:///x", true, 3}; }
    bool ready() const override { return true; }
    const PowerControl& power() const override { return power_; }
    const AccessRules& accessRules() const override { return *rules_; }
    const DomainIntentRecord* powerIntent(std::string_view uuid) const override {
        return uuid == kUuid && !intent.vcpus.empty() ? &intent : nullptr;
    }
    const AgentTelemetry& telemetry() const override { return telemetry_; }
    AgentTelemetry telemetry_;
    PowerVerdict applyOperatorRequest(unsigned cpu, PowerAction action) override {
        return power_.apply(Requester::operatorOverride(cpu), CpuSet{cpu}, action, {});
    }
    bool releaseOperatorRequest(unsigned cpu) override {
        const Requester op = Requester::operatorOverride(cpu);
        if (power_.heldBy(op, cpu) == HeldRequest{}) return false;
        power_.releaseHolder(op);
        return true;
    }
    // The hypervisor's answers come later, as from the libvirt worker:
    // answerAll() gives them.
    AsyncCall pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus,
                      DoneVerdict done) override {
        auto started = AsyncCall::start<Verdict>(std::move(done));
        AsyncCall call = std::move(started.first);
        auto answer = std::move(started.second);  // no structured binding: lambdas capture it
        if (pin_error.empty())
            pins.push_back(std::string(name) + "/" + std::to_string(vcpu) + "/" + pcpus.toString());
        Verdict v = pin_error.empty() ? Verdict::accepted() : Verdict::refused(pin_error);
        answers.push_back([answer, v] { answer(v); });
        return call;
    }
    AsyncCall lookupDefined(std::string_view name_or_uuid,
                            Done<std::optional<DomainName>> done) override {
        using R = Checked<std::optional<DomainName>>;
        auto started = AsyncCall::start<R>(std::move(done));
        AsyncCall call = std::move(started.first);
        auto answer = std::move(started.second);  // no structured binding: lambdas capture it
        std::optional<DomainName> known;
        if (name_or_uuid == "stopped")
            known = DomainName{"stopped", "22222222-2222-2222-2222-222222222222"};
        answers.push_back([answer, known] { answer(known); });
        return call;
    }
    void answerAll() {
        while (!answers.empty()) {
            auto next = std::move(answers.front());
            answers.erase(answers.begin());
            next();
        }
    }
    std::vector<std::function<void()>> answers;
    bool setChannelEnabled(std::string_view, unsigned, bool) override { return false; }
    void setQueryOverride(std::string_view name, std::string_view uuid, bool queries) override {
        rules_ =
            std::make_shared<const AccessRules>(rules_->withQueryOverride(name, uuid, queries));
    }
    Verdict setHostPolicy(std::string_view uuid, HostPolicy policy) override {
        host_policies[std::string(uuid)] = HostPolicyView{
            std::move(policy), PolicyOrigin::Operator, PolicyLevel::Max, "workload high: max", ""};
        return Verdict::accepted();
    }
    bool removeHostPolicy(std::string_view uuid) override {
        return host_policies.erase(std::string(uuid)) > 0;
    }
    std::size_t releaseAll() override {
        const std::size_t n = host_policies.size();
        host_policies.clear();
        return n;
    }
    std::optional<HostPolicyView> hostPolicy(std::string_view uuid) const override {
        auto it = host_policies.find(std::string(uuid));
        if (it == host_policies.end()) return std::nullopt;
        return it->second;
    }
    std::map<std::string, HostPolicyView> host_policies;
    std::optional<TrafficSamplingView> trafficSampling() const override { return sampling; }
    std::optional<TrafficSamplingView> sampling;
    IntentWriteStats intentWrites() const override { return intent_writes; }
    IntentWriteStats intent_writes;
    const EnergySampler* energy() const override { return energy_; }
    Verdict reload() override {
        return Verdict::refused("/etc/vmpower/vmpower.yaml:3:1: end of sequence");
    }

    testing::FakePowerControl power_;
    std::shared_ptr<const AccessRules> rules_;
    std::map<std::string, DomainView> domains_;
    std::vector<std::string> pins;
    std::string pin_error;
    DomainIntentRecord intent;
    const EnergySampler* energy_ = nullptr;
};

// One command, its later answer included.
json run(FakeAgent& a, const json& req, ControlAccess access = ControlAccess::Full) {
    std::optional<json> answer;
    AsyncCall later =
        startControlCommand(a, req, access, [&answer](json r) { answer = std::move(r); });
    a.answerAll();
    EXPECT_TRUE(answer.has_value()) << req.dump();
    return answer.value_or(json{});
}

TEST(ControlCommands, ShowVmSaysWhereEachVcpusLevelCameFrom) {
    FakeAgent a;
    DomainView d{"vm1", kUuid};
    d.vcpus = VcpuMap({CpuSet{2}, CpuSet{3}, CpuSet{4}});
    a.domains_[kUuid] = std::move(d);
    const auto at = std::chrono::system_clock::from_time_t(1796040000);  // 2026-11-30 12:00:00 UTC
    a.intent.vcpus[0] = {
        VcpuIntent{0, LevelPosition{LevelPosition::Kind::Max, 0, 0}, 2600000, true},
        VcpuIntentRecord::Origin::Migration,
        at,
        true,
        "",
        {}};
    a.intent.vcpus[1] = {
        VcpuIntent{1, LevelPosition{LevelPosition::Kind::Step, 2, 10}, 2200000, {}},
        VcpuIntentRecord::Origin::Guest,
        at,
        true,
        "",
        {}};
    a.intent.vcpus[2] = {VcpuIntent{2, LevelPosition{LevelPosition::Kind::Min, 0, 0}, {}, {}},
                         VcpuIntentRecord::Origin::Migration,
                         at,
                         false,
                         "cpufreq refused: shared",
                         {}};
    json shown = run(a, {{key::kCmd, cmd::kShowVm}, {key::kName, "vm1"}});
    ASSERT_EQ(shown["ok"], true) << shown.dump();
    const json& v = shown["vcpus"];
    EXPECT_EQ(v[0]["intent"]["from"], "restored from migration (at 2026-11-30 12:00:00 UTC)");
    EXPECT_EQ(v[0]["intent"]["level"], "max");
    EXPECT_EQ(v[0]["intent"]["turbo"], true);
    EXPECT_EQ(v[0]["intent"]["origin"], "migration");
    EXPECT_EQ(v[1]["intent"]["from"], "held since 2026-11-30 12:00:00 UTC");
    EXPECT_EQ(v[1]["intent"]["level_text"], "2 steps below max (of 10)");
    EXPECT_EQ(v[1]["intent"]["from_top"], 2);
    EXPECT_EQ(v[1]["intent"]["turbo"], nullptr);
    EXPECT_EQ(v[2]["intent"]["from"],
              "restored from migration (at 2026-11-30 12:00:00 UTC), not applied: cpufreq "
              "refused: shared");
    EXPECT_EQ(v[2]["intent"]["applied"], false);
    // The same in the state dump.
    EXPECT_EQ(run(a, {{key::kCmd, cmd::kState}})["domains"][0]["vcpus"][1]["intent"]["origin"],
              "guest");
}

TEST(ControlCommands, TheReadOnlyGroupIsRefusedEveryCommandThatChangesSomething) {
    FakeAgent a;
    auto asReader = [&](const json& req) { return run(a, req, ControlAccess::ReadOnly); };
    EXPECT_EQ(asReader({{key::kCmd, cmd::kShowVm}, {key::kName, "vm1"}})["ok"], true);
    json refused = asReader(
        {{key::kCmd, cmd::kSetPcpu}, {key::kName, "vm1"}, {key::kVcpu, 0}, {key::kPcpus, "4"}});
    EXPECT_EQ(refused["ok"], false);
    EXPECT_NE(refused["error"].get<std::string>().find("permission denied"), std::string::npos);
    EXPECT_TRUE(a.pins.empty()) << "nothing was done";
}

TEST(ControlCommands, SetPcpuGoesThroughTheHypervisorAdapter) {
    FakeAgent a;
    EXPECT_EQ(run(a, {{key::kCmd, cmd::kSetPcpu},
                      {key::kName, "vm1"},
                      {key::kVcpu, 0},
                      {key::kPcpus, "4-5"}})["ok"],
              true);
    EXPECT_EQ(a.pins, (std::vector<std::string>{"vm1/0/4-5"}));
    a.pin_error = "vm1: Requested operation is not valid";
    json refused = run(
        a, {{key::kCmd, cmd::kSetPcpu}, {key::kName, "vm1"}, {key::kVcpu, 0}, {key::kPcpus, "4"}});
    EXPECT_EQ(refused["ok"], false);
    EXPECT_EQ(refused["error"], "set-pcpu: vm1: Requested operation is not valid");
}

TEST(ControlCommands, ReloadAnswersWithTheFilesError) {
    FakeAgent a;
    json r = run(a, {{key::kCmd, cmd::kReload}});
    EXPECT_EQ(r["ok"], false);
    EXPECT_NE(r["error"].get<std::string>().find("vmpower.yaml:3:1: end of sequence"),
              std::string::npos);
}

TEST(ControlCommands, SetQueryIsAnOverrideThatShowPolicyShows) {
    FakeAgent a;
    ASSERT_EQ(
        run(a, {{key::kCmd, cmd::kSetQuery}, {key::kName, "vm1"}, {key::kAction, "disable"}})["ok"],
        true);
    json shown = run(a, {{key::kCmd, cmd::kShowRule}, {key::kName, "vm1"}});
    EXPECT_EQ(shown["rule"]["override"], true);
    EXPECT_EQ(shown["rule"]["queries"], false);
    EXPECT_EQ(shown["rule"]["overrides"]["queries"], false);
    EXPECT_EQ(shown["rule_index"], 0);
    EXPECT_EQ(a.accessRules().rules().size(), 1u);  // the file's rules are untouched
    ASSERT_EQ(
        run(a, {{key::kCmd, cmd::kSetQuery}, {key::kName, "vm1"}, {key::kAction, "enable"}})["ok"],
        true);
    EXPECT_TRUE(a.accessRules().overrides().empty());
}

TEST(ControlCommands, ShowPolicyOfAStoppedDomainAsksTheAdapter) {
    FakeAgent a;
    json shown = run(a, {{key::kCmd, cmd::kShowRule}, {key::kName, "stopped"}});
    EXPECT_EQ(shown["running"], false);
    EXPECT_EQ(shown["matched"], false);  // "stopped" is not vm*
    EXPECT_EQ(run(a, {{key::kCmd, cmd::kShowRule}, {key::kName, "nope"}})["error"],
              "no domain 'nope' known to libvirt");
}

// show-policy is show-rule's old name: it answers the same, read-only too.
TEST(ControlCommands, ShowPolicyIsShowRulesOldName) {
    FakeAgent a;
    const json rule = run(a, {{key::kCmd, cmd::kShowRule}, {key::kName, "vm1"}});
    ASSERT_EQ(rule[key::kOk], true);
    EXPECT_EQ(run(a, {{key::kCmd, cmd::kShowPolicy}, {key::kName, "vm1"}}), rule);
    EXPECT_EQ(run(a, {{key::kCmd, cmd::kShowPolicy}, {key::kName, "vm1"}}, ControlAccess::ReadOnly),
              rule);
    EXPECT_EQ(run(a, {{key::kCmd, cmd::kShowPolicy}, {key::kName, "nope"}})[key::kError],
              "no domain 'nope' known to libvirt");
    const json listed = run(a, {{key::kCmd, cmd::kVersion}})[key::kCommands];
    for (auto name : {cmd::kShowRule, cmd::kShowPolicy})
        EXPECT_NE(std::find(listed.begin(), listed.end(), name), listed.end()) << name;
}

TEST(ControlCommands, OperatorRequestAndQueriesUseThePowerControl) {
    FakeAgent a;
    a.power_.khz[2] = 2000000;
    json f = run(a, {{key::kCmd, cmd::kShowCpuFreq}, {key::kCpu, 2}});
    EXPECT_EQ(f["khz"], 2000000);
    EXPECT_EQ(f["vcpus"][0]["vm"], "vm1");
    ASSERT_EQ(run(a, {{key::kCmd, cmd::kSetCpuFreq}, {key::kCpu, 2}, {key::kAction, "max"}})["ok"],
              true);
    ASSERT_EQ(a.power_.calls.size(), 1u);
    EXPECT_EQ(a.power_.calls[0].who, Requester::operatorOverride(2));
}

TEST(ControlCommands, StateAndUnknownCommands) {
    FakeAgent a;
    json s = run(a, {{key::kCmd, cmd::kState}});
    EXPECT_EQ(s["libvirt"]["connects"], 3);
    EXPECT_EQ(s["domains"][0]["name"], "vm1");
    EXPECT_EQ(run(a, {{key::kCmd, "nope"}})["ok"], false);
    EXPECT_EQ(run(a, json::array())["ok"], false);
    EXPECT_EQ(run(a, {{key::kCmd, cmd::kSetChannelStatus},
                      {key::kName, "vm1"},
                      {key::kIndex, 0},
                      {key::kStatus, "disabled"}})["ok"],
              false);
}

// Channel indexes and action names come from the shared definitions
// (common/power_channel.h, common/power_action.h).
TEST(ControlCommands, ChannelIndexAndActionUseTheSharedDefinitions) {
    FakeAgent a;
    json over = run(a, {{key::kCmd, cmd::kSetChannelStatus},
                        {key::kName, "vm1"},
                        {key::kIndex, kMaxPowerChannelIndex + 1},
                        {key::kStatus, "enabled"}});
    EXPECT_EQ(over["ok"], false);
    EXPECT_NE(over["error"].get<std::string>().find("'index' must be a channel index (0-" +
                                                    std::to_string(kMaxPowerChannelIndex)),
              std::string::npos)
        << over;
    json bad = run(a, {{key::kCmd, cmd::kSetCpuFreq}, {key::kCpu, 2}, {key::kAction, "faster"}});
    EXPECT_EQ(bad["ok"], false);
    EXPECT_NE(bad["error"].get<std::string>().find("'action' must be " +
                                                   joinedNames(kPowerActionNames, "|")),
              std::string::npos)
        << bad;
    EXPECT_TRUE(a.power_.calls.empty());
}

TEST(ControlCommands, EnergyUnavailableIsSaidNeverZero) {
    FakeAgent a;  // no sampler
    json e = run(a, {{key::kCmd, cmd::kEnergy}});
    EXPECT_EQ(e["ok"], true);
    EXPECT_EQ(e["available"], false);
    json vm = run(a, {{key::kCmd, cmd::kShowVm}, {key::kName, "vm1"}});
    EXPECT_TRUE(vm["energy_uj"].is_null());
    EXPECT_TRUE(vm["power_w"].is_null());
    EXPECT_NE(vm["energy"].get<std::string>().find("unavailable"), std::string::npos);
}

TEST(ControlCommands, EnergyShowsEachVmAndThePackages) {
    // A sampler on the one-package fixture; vm1's QEMU is the fixture
    // process 4242, whose vCPU 0 thread then runs 100 ticks of 400.
    test::SysfsFixture fx("rapl-one-package");
    const auto proc = fx.scratch("proc"), pids = fx.scratch("pids");
    std::filesystem::copy(VMPOWER_PROC_FIXTURES "/qemu-tcg", proc,
                          std::filesystem::copy_options::recursive);
    std::ofstream(pids / "vm1.pid") << "4242\n";
    EnergySettings settings;
    settings.sysfs_root = fx.root();
    settings.proc_root = proc;
    settings.qemu_pid_dir = pids;
    ManualClock clock;
    EnergySampler sampler(settings, clock);
    const std::vector<WatchedDomain> vms = {{kUuid, "vm1", 1}};
    sampler.sample(vms);
    const auto stat = proc / "4242/task/4245/stat";
    std::ifstream in(stat);
    std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    line.replace(line.find(" 700 50 "), 8, " 800 50 ");  // utime +100 ticks
    std::ofstream(stat, std::ios::trunc) << line;
    fx.write("devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj", "1040000000\n");
    clock.advance(std::chrono::seconds(1));
    sampler.sample(vms);

    FakeAgent a;
    a.energy_ = &sampler;
    json e = run(a, {{key::kCmd, cmd::kEnergy}});
    ASSERT_EQ(e["available"], true) << e.dump();
    ASSERT_EQ(e["vms"].size(), 1u);
    EXPECT_EQ(e["vms"][0]["name"], "vm1");
    EXPECT_EQ(e["vms"][0]["energy_uj"], 10'000'000);  // 100/400 x 40 J
    EXPECT_DOUBLE_EQ(e["vms"][0]["power_w"].get<double>(), 10.0);
    EXPECT_DOUBLE_EQ(e["vms"][0]["package_share"][0].get<double>(), 0.25);
    EXPECT_EQ(e["packages"][0]["name"], "package-0");
    EXPECT_EQ(e["packages"][0]["host_uj"], 30'000'000);
    json vm = run(a, {{key::kCmd, cmd::kShowVm}, {key::kName, "vm1"}});
    EXPECT_EQ(vm["energy_uj"], 10'000'000);
    EXPECT_DOUBLE_EQ(vm["power_w"].get<double>(), 10.0);
}

}  // namespace
}  // namespace vmpower

namespace vmpower {
namespace {

TEST(ControlCommands, SetPolicyReadsTheJsonShowVmShowsItRemovePolicyDropsIt) {
    FakeAgent a;
    json set = run(a, {{key::kCmd, cmd::kSetPolicy},
                       {key::kName, "vm1"},
                       {key::kType, "time"},
                       {key::kVcpus, {0}},
                       {key::kBusyHours, {9, 10}},
                       {key::kTrafficHours, {18}},
                       {key::kMiddlePps, 1000},
                       {key::kMaxPps, 5000},
                       {key::kMacs, {"52:54:00:12:34:56"}}});
    ASSERT_EQ(set["ok"], true) << set.dump();
    const HostPolicy& p = a.host_policies.at(kUuid).policy;
    EXPECT_EQ(p.type, HostPolicyType::Time);
    EXPECT_EQ(p.vcpus, std::vector<unsigned>{0});
    EXPECT_EQ(p.busy_hours, HourSet((1 << 9) | (1 << 10)));
    EXPECT_EQ(p.traffic_hours, HourSet(1 << 18));
    EXPECT_EQ(p.traffic, (TrafficThresholds{0, 1000, 5000}));
    EXPECT_EQ(p.macs, std::vector<std::uint64_t>{*parseMac("52:54:00:12:34:56")});

    json shown = run(a, {{key::kCmd, cmd::kShowVm}, {key::kName, "vm1"}});
    EXPECT_EQ(shown["host_policy"]["type"], "time");
    EXPECT_EQ(shown["host_policy"]["busy_hours"], json({9, 10}));
    EXPECT_EQ(shown["host_policy"]["macs"], json({"52:54:00:12:34:56"}));
    EXPECT_EQ(shown["host_policy"]["set_by"], "operator");
    EXPECT_EQ(shown["host_policy"]["decision"], "workload high: max");

    EXPECT_EQ(run(a, {{key::kCmd, cmd::kRemovePolicy}, {key::kName, "vm1"}})["ok"], true);
    EXPECT_TRUE(run(a, {{key::kCmd, cmd::kShowVm}, {key::kName, "vm1"}})["host_policy"].is_null());
    EXPECT_EQ(run(a, {{key::kCmd, cmd::kRemovePolicy}, {key::kName, "vm1"}})["error"],
              "vm1 has no host policy");
}

TEST(ControlCommands, ReleaseAllAnswersHowManyVmsItReleasedAndIsNotReadOnly) {
    FakeAgent a;
    ASSERT_EQ(run(a, {{key::kCmd, cmd::kSetPolicy},
                      {key::kName, "vm1"},
                      {key::kType, "workload"},
                      {key::kVcpus, {0}}})["ok"],
              true);
    json released = run(a, {{key::kCmd, cmd::kReleaseAll}});
    ASSERT_EQ(released["ok"], true) << released.dump();
    EXPECT_EQ(released[key::kReleased], 1);
    EXPECT_TRUE(a.host_policies.empty());
    EXPECT_EQ(run(a, {{key::kCmd, cmd::kReleaseAll}})[key::kReleased], 0);
    EXPECT_EQ(run(a, {{key::kCmd, cmd::kReleaseAll}}, ControlAccess::ReadOnly)["ok"], false);
}

TEST(ControlCommands, SetPolicyRefusesBadJsonNamingTheKey) {
    FakeAgent a;
    const std::pair<json, std::string> bad[] = {
        {{{"type", "weather"}, {"vcpus", {0}}},
         "set-policy: 'type' must be one of traffic, time, workload, branch_ratio"},
        {{{"type", "time"}}, "set-policy: 'vcpus' is required"},
        {{{"type", "time"}, {"vcpus", {0, 0}}}, "set-policy: 'vcpus' names vCPU 0 twice"},
        {{{"type", "time"}, {"vcpus", {0}}, {"busy_hours", {24}}},
         "set-policy: 'busy_hours' must be a number from 0 to 23"},
        {{{"type", "workload"}, {"vcpus", {0}}, {"workload", "extreme"}},
         "set-policy: 'workload' must be one of high, medium, low"},
        {{{"type", "traffic"}, {"vcpus", {0}}, {"middle_pps", 9}, {"max_pps", 1}},
         "set-policy: 'middle_pps' is above 'max_pps'"},
        {{{"type", "traffic"}, {"vcpus", {0}}, {"macs", {"52:54"}}},
         "set-policy: 'macs' holds \"52:54\", not a MAC address"},
    };
    for (const auto& [fields, error] : bad) {
        json req = fields;
        req[key::kCmd] = cmd::kSetPolicy;
        req["name"] = "vm1";
        EXPECT_EQ(run(a, req)["error"], error) << fields.dump();
    }
    EXPECT_TRUE(a.host_policies.empty());
}

}  // namespace
}  // namespace vmpower

namespace vmpower {
namespace {

TEST(ControlCommands, ShowVmAndTheMetricsSayHowTrafficIsSampled) {
    FakeAgent a;
    a.domains_[kUuid] = DomainView{"vm1", kUuid};
    TrafficSamplingView s;
    s.interval = std::chrono::milliseconds(1700);
    s.last_duration = std::chrono::milliseconds(850);
    s.samples = 12;
    s.failures = 3;
    s.last_error = "virDomainListGetStats: timed out";
    HostPolicyView v;
    v.policy.type = HostPolicyType::Traffic;
    v.policy.vcpus = {0};
    v.traffic = s;
    a.host_policies[kUuid] = v;
    a.sampling = s;
    json shown = run(a, {{key::kCmd, cmd::kShowVm}, {key::kName, "vm1"}});
    EXPECT_EQ(shown[key::kHostPolicy][key::kTrafficSampling],
              json({{key::kIntervalMs, 1700},
                    {key::kLastSampleMs, 850},
                    {key::kSamples, 12},
                    {key::kFailures, 3},
                    {key::kLastError, "virDomainListGetStats: timed out"},
                    {key::kInFlight, false}}))
        << shown.dump();
    a.host_policies[kUuid].traffic.reset();  // a policy that measures no traffic
    shown = run(a, {{key::kCmd, cmd::kShowVm}, {key::kName, "vm1"}});
    EXPECT_FALSE(shown[key::kHostPolicy].contains(key::kTrafficSampling));

    const std::string text = run(a, {{key::kCmd, cmd::kMetrics}})["text"];
    for (const char* line :
         {"vmpower_traffic_sample_interval_seconds 1.7\n",
          "vmpower_traffic_sample_duration_seconds 0.85\n", "vmpower_traffic_samples_total 12\n",
          "# TYPE vmpower_traffic_sample_failures_total counter\n",
          "vmpower_traffic_sample_failures_total 3\n"}) {
        EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
    }
    a.sampling.reset();  // no host policy engine: no family
    EXPECT_EQ(run(a, {{key::kCmd, cmd::kMetrics}})["text"].get<std::string>().find("traffic"),
              std::string::npos);
}

TEST(ControlCommands, MetricsAreReadOnlyPrometheusText) {
    FakeAgent a;
    a.telemetry_.reloads_refused = 2;
    a.telemetry_.events["started"] = 5;
    a.intent_writes.written = 7;
    a.intent_writes.busy = 3;
    json r = runControlCommand(a, {{key::kCmd, cmd::kMetrics}}, ControlAccess::ReadOnly);
    ASSERT_EQ(r["ok"], true) << r.dump();
    const std::string text = r["text"];
    for (const char* line :
         {"# TYPE vmpower_build_info gauge\n",
          "vmpower_config_reloads_total{result=\"refused\"} 2\n",
          "vmpower_libvirt_events_total{type=\"started\"} 5\n",
          "vmpower_libvirt_events_total{type=\"device_removed\"} 0\n",
          "vmpower_libvirt_connected{uri=\"test:///x\"} 1\n",
          "vmpower_channels{state=\"connected\"} 0\n",
          "# TYPE vmpower_intent_writes_total counter\n", "vmpower_intent_writes_total 7\n",
          "vmpower_intent_writes_deferred_total 3\n"}) {
        EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
    }
}

}  // namespace
}  // namespace vmpower

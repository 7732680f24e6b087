// The command table on a fake agent: what each command asks of
// AgentOperations, and that nothing a handler meets escapes as an exception.
// (The commands on a real agent: tests/integration/vmpowerctl_test.cpp.)
#include "control_commands.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "power_action.h"
#include "power_channel.h"
#include "test_support.h"

namespace vmpower {
namespace {

using json = nlohmann::json;

constexpr const char* kUuid = "11111111-1111-1111-1111-111111111111";

class FakeAgent final : public AgentOperations {
  public:
    FakeAgent() {
        VmPolicy lab;
        lab.name = "lab";
        lab.name_globs = {"vm*"};
        policy_ = std::make_shared<const Policy>(std::vector<VmPolicy>{lab});
        auto d = std::make_unique<Domain>("vm1", kUuid);
        d->vcpus = VcpuMap({CpuSet{2}});
        domains_.emplace(kUuid, std::move(d));
    }
    const DomainMap& domains() const override { return domains_; }
    HypervisorStatus hypervisorStatus() const override { return {"test:///x", true, 3}; }
    bool ready() const override { return true; }
    const PowerControl& power() const override { return power_; }
    const Policy& policy() const override { return *policy_; }
    const DomainIntentRecord* powerIntent(std::string_view uuid) const override {
        return uuid == kUuid && !intent.vcpus.empty() ? &intent : nullptr;
    }
    const AgentTelemetry& telemetry() const override { return telemetry_; }
    AgentTelemetry telemetry_;
    PowerVerdict applyOperatorRequest(unsigned cpu, PowerAction action) override {
        return power_.apply(Requester{std::string(kOperatorUuid), cpu}, CpuSet{cpu}, action, {});
    }
    void pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus) override {
        if (!pin_error.empty()) throw std::runtime_error(pin_error);
        pins.push_back(std::string(name) + "/" + std::to_string(vcpu) + "/" + pcpus.toString());
    }
    std::optional<DomainName> lookupDefined(std::string_view name_or_uuid) override {
        if (name_or_uuid == "stopped") {
            return DomainName{"stopped", "22222222-2222-2222-2222-222222222222"};
        }
        return std::nullopt;
    }
    bool setChannelEnabled(std::string_view, unsigned, bool) override { return false; }
    void setQueryOverride(std::string_view name, std::string_view uuid, bool queries) override {
        policy_ = std::make_shared<const Policy>(policy_->withQueryOverride(name, uuid, queries));
    }
    bool reload(std::string* error) override {
        if (error != nullptr) *error = "/etc/vmpower/vmpower.yaml:3:1: end of sequence";
        return false;
    }

    testing::FakePowerControl power_;
    std::shared_ptr<const Policy> policy_;
    DomainMap domains_;
    std::vector<std::string> pins;
    std::string pin_error;
    DomainIntentRecord intent;
};

json run(FakeAgent& a, const json& req) {
    return runControlCommand(a, req);
}

TEST(ControlCommands, ShowVmSaysWhereEachVcpusLevelCameFrom) {
    FakeAgent a;
    auto d = std::make_unique<Domain>("vm1", kUuid);
    d->vcpus = VcpuMap({CpuSet{2}, CpuSet{3}, CpuSet{4}});
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
    json shown = run(a, {{"cmd", "show-vm"}, {"name", "vm1"}});
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
    EXPECT_EQ(run(a, {{"cmd", "state"}})["domains"][0]["vcpus"][1]["intent"]["origin"], "guest");
}

TEST(ControlCommands, TheReadOnlyGroupIsRefusedEveryCommandThatChangesSomething) {
    FakeAgent a;
    auto asReader = [&](const json& req) {
        return runControlCommand(a, req, ControlAccess::ReadOnly);
    };
    EXPECT_EQ(asReader({{"cmd", "show-vm"}, {"name", "vm1"}})["ok"], true);
    json refused = asReader({{"cmd", "set-pcpu"}, {"name", "vm1"}, {"vcpu", 0}, {"pcpus", "4"}});
    EXPECT_EQ(refused["ok"], false);
    EXPECT_NE(refused["error"].get<std::string>().find("permission denied"), std::string::npos);
    EXPECT_TRUE(a.pins.empty()) << "nothing was done";
}

TEST(ControlCommands, SetPcpuGoesThroughTheHypervisorAdapter) {
    FakeAgent a;
    EXPECT_EQ(run(a, {{"cmd", "set-pcpu"}, {"name", "vm1"}, {"vcpu", 0}, {"pcpus", "4-5"}})["ok"],
              true);
    EXPECT_EQ(a.pins, (std::vector<std::string>{"vm1/0/4-5"}));
    a.pin_error = "vm1: Requested operation is not valid";
    json refused = run(a, {{"cmd", "set-pcpu"}, {"name", "vm1"}, {"vcpu", 0}, {"pcpus", "4"}});
    EXPECT_EQ(refused["ok"], false);
    EXPECT_EQ(refused["error"], "set-pcpu: vm1: Requested operation is not valid");
}

TEST(ControlCommands, ReloadAnswersWithTheFilesError) {
    FakeAgent a;
    json r = run(a, {{"cmd", "reload"}});
    EXPECT_EQ(r["ok"], false);
    EXPECT_NE(r["error"].get<std::string>().find("vmpower.yaml:3:1: end of sequence"),
              std::string::npos);
}

TEST(ControlCommands, SetQueryIsAnOverrideThatShowPolicyShows) {
    FakeAgent a;
    ASSERT_EQ(run(a, {{"cmd", "set-query"}, {"name", "vm1"}, {"action", "disable"}})["ok"], true);
    json shown = run(a, {{"cmd", "show-policy"}, {"name", "vm1"}});
    EXPECT_EQ(shown["rule"]["override"], true);
    EXPECT_EQ(shown["rule"]["queries"], false);
    EXPECT_EQ(shown["rule"]["overrides"]["queries"], false);
    EXPECT_EQ(shown["rule_index"], 0);
    EXPECT_EQ(a.policy().rules().size(), 1u);  // the file's rules are untouched
    ASSERT_EQ(run(a, {{"cmd", "set-query"}, {"name", "vm1"}, {"action", "enable"}})["ok"], true);
    EXPECT_TRUE(a.policy().overrides().empty());
}

TEST(ControlCommands, ShowPolicyOfAStoppedDomainAsksTheAdapter) {
    FakeAgent a;
    json shown = run(a, {{"cmd", "show-policy"}, {"name", "stopped"}});
    EXPECT_EQ(shown["running"], false);
    EXPECT_EQ(shown["matched"], false);  // "stopped" is not vm*
    EXPECT_EQ(run(a, {{"cmd", "show-policy"}, {"name", "nope"}})["error"],
              "no domain 'nope' known to libvirt");
}

TEST(ControlCommands, OperatorRequestAndQueriesUseThePowerControl) {
    FakeAgent a;
    a.power_.khz[2] = 2000000;
    json f = run(a, {{"cmd", "show-cpu-freq"}, {"cpu", 2}});
    EXPECT_EQ(f["khz"], 2000000);
    EXPECT_EQ(f["vcpus"][0]["vm"], "vm1");
    ASSERT_EQ(run(a, {{"cmd", "set-cpu-freq"}, {"cpu", 2}, {"action", "max"}})["ok"], true);
    ASSERT_EQ(a.power_.calls.size(), 1u);
    EXPECT_EQ(a.power_.calls[0].who.domain_uuid, "operator");
}

TEST(ControlCommands, StateAndUnknownCommands) {
    FakeAgent a;
    json s = run(a, {{"cmd", "state"}});
    EXPECT_EQ(s["libvirt"]["connects"], 3);
    EXPECT_EQ(s["domains"][0]["name"], "vm1");
    EXPECT_EQ(run(a, {{"cmd", "nope"}})["ok"], false);
    EXPECT_EQ(run(a, json::array())["ok"], false);
    EXPECT_EQ(run(a, {{"cmd", "set-channel-status"},
                      {"name", "vm1"},
                      {"index", 0},
                      {"status", "disabled"}})["ok"],
              false);
}

// Channel indexes and action names come from the shared definitions
// (common/power_channel.h, common/power_action.h).
TEST(ControlCommands, ChannelIndexAndActionUseTheSharedDefinitions) {
    FakeAgent a;
    json over = run(a, {{"cmd", "set-channel-status"},
                        {"name", "vm1"},
                        {"index", kMaxPowerChannelIndex + 1},
                        {"status", "enabled"}});
    EXPECT_EQ(over["ok"], false);
    EXPECT_NE(over["error"].get<std::string>().find("'index' must be a channel index (0-" +
                                                    std::to_string(kMaxPowerChannelIndex)),
              std::string::npos)
        << over;
    json bad = run(a, {{"cmd", "set-cpu-freq"}, {"cpu", 2}, {"action", "faster"}});
    EXPECT_EQ(bad["ok"], false);
    EXPECT_NE(bad["error"].get<std::string>().find("'action' must be " +
                                                   joinedNames(kPowerActionNames, "|")),
              std::string::npos)
        << bad;
    EXPECT_TRUE(a.power_.calls.empty());
}

}  // namespace
}  // namespace vmpower

namespace vmpower {
namespace {

TEST(ControlCommands, MetricsAreReadOnlyPrometheusText) {
    FakeAgent a;
    a.telemetry_.reloads_refused = 2;
    a.telemetry_.events["started"] = 5;
    json r = runControlCommand(a, {{"cmd", "metrics"}}, ControlAccess::ReadOnly);
    ASSERT_EQ(r["ok"], true) << r.dump();
    const std::string text = r["text"];
    for (const char* line : {"# TYPE vmpower_build_info gauge\n",
                             "vmpower_config_reloads_total{result=\"refused\"} 2\n",
                             "vmpower_libvirt_events_total{type=\"started\"} 5\n",
                             "vmpower_libvirt_events_total{type=\"device_removed\"} 0\n",
                             "vmpower_libvirt_connected{uri=\"test:///x\"} 1\n",
                             "vmpower_channels{state=\"connected\"} 0\n"}) {
        EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
    }
}

}  // namespace
}  // namespace vmpower

#include "format.h"

#include <gtest/gtest.h>

#include <sstream>

#include "control_protocol.h"
#include "table.h"

namespace vmpower::ctl {
namespace {

template <typename F>
std::string render(F f, const json& j) {
    std::ostringstream out;
    f(out, j);
    return out.str();
}

TEST(Table, PadsColumnsAndTrimsTrailingBlanks) {
    Table t({"A", "Long header"});
    t.add({"wide cell", "x"});
    t.add({"y", ""});
    std::ostringstream out;
    t.print(out, 2);
    EXPECT_EQ(out.str(),
              "  A          Long header\n"
              "  wide cell  x\n"
              "  y\n");
}

TEST(EscapedText, ControlsAndInvalidUtf8AreShownNotSent) {
    EXPECT_EQ(escapedText("vm-1"), "vm-1");
    EXPECT_EQ(escapedText("\x1b[31mred\x1b[0m"), "\\e[31mred\\e[0m");
    EXPECT_EQ(escapedText("a\nb\tc\rd"), "a\\nb\\tc\\rd");
    EXPECT_EQ(escapedText(std::string("a\0b\x07\x7f", 5)), "a\\x00b\\x07\\x7F");
    // Other scripts pass; a C1 control (U+009B, CSI) and broken UTF-8 do not.
    EXPECT_EQ(escapedText("caf\xc3\xa9 \xe6\x97\xa5"), "caf\xc3\xa9 \xe6\x97\xa5");
    EXPECT_EQ(escapedText("\xc2\x9b"
                          "31m"),
              "\\xC2\\x9B31m");
    EXPECT_EQ(escapedText("\xff\xc3"), "\\xFF\\xC3");
    EXPECT_EQ(escapedText("\xc0\xaf"), "\\xC0\\xAF");  // overlong '/'
    EXPECT_EQ(escapedText("l1\nl2\x1b\n", true), "l1\nl2\\e\n");
}

TEST(Format, EveryNameFromTheAgentIsEscaped) {
    const std::string evil = "vm\x1b[31m";
    const json vm = {{"name", evil}, {"uuid", "u"}, {"id", 1}, {"problems", {evil}}};
    const json energy = {{"available", true},
                         {"interval_ms", 1000},
                         {"samples", 1},
                         {"packages", json::array()},
                         {"vms", {{{"name", evil}, {"energy_uj", 1}, {"power_w", 0}}}}};
    const json channels = {{"channels", {{{"vm", evil}, {"index", 0}, {"state", "connected"}}}}};
    const json cpu = {{"cpu", 2},
                      {"khz", 1000},
                      {"vcpus", {{{"vm", evil}, {"vcpu", 0}}}},
                      {"policy", {{"name", "policy2"}, {"stakeholders", {evil}}}}};
    for (const std::string& out : {render(printDomain, vm), render(printEnergy, energy),
                                   render(printChannels, channels), render(printCpuFreq, cpu)}) {
        EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
        EXPECT_NE(out.find("vm\\e[31m"), std::string::npos) << out;
    }
}

TEST(Format, DomainShowsVcpuMapAndChannels) {
    json d = {{"name", "vm1"},
              {"uuid", "u1"},
              {"id", 3},
              {"vcpus",
               {{{"vcpu", 0}, {"pcpus", "2-3"}, {"intent", nullptr}},
                {{"vcpu", 1},
                 {"pcpus", "4"},
                 {"intent",
                  {{"level_text", "max"},
                   {"turbo", true},
                   {"from", "restored from migration (at 2026-11-30 12:00:00 UTC)"}}}}}},
              {"channels",
               {{{"index", 0},
                 {"state", "connected"},
                 {"connects", 1},
                 {"records", 4},
                 {"acked", 3},
                 {"nacked", 1},
                 {"nacks_by_reason", {{"not_allowed", 1}}},
                 {"rate_limited", 0},
                 {"replies_dropped", 0},
                 {"path", "/p/vm1.0"},
                 {"last_error", ""}}}},
              {"problems", {"channel 2 is a pty"}}};
    EXPECT_EQ(render(printDomain, d),
              "VM vm1  uuid u1  id 3\n"
              "  vCPU  pCPUs  Level          Where from\n"
              "  0     2-3    -              -\n"
              "  1     4      max, turbo on  restored from migration (at 2026-11-30 12:00:00 UTC)\n"
              "  Channel  State      Connects  Records  ACK  NACK  Limited  Dropped  Path      "
              "Last error\n"
              "  0        connected  1         4        3    1     0        0        /p/vm1.0\n"
              "  channel 0 NACKs by reason: not_allowed 1\n"
              "  problem: channel 2 is a pty\n");
}

TEST(Format, MissingFieldsShowAsDashes) {
    std::string s = render(printDomain, json{{"name", "vm1"}, {"channels", {json::object()}}});
    EXPECT_NE(s.find("uuid -"), std::string::npos);
    EXPECT_NE(s.find("no vCPU map"), std::string::npos);
    EXPECT_NO_THROW(render(printState, json::array()));
    EXPECT_NO_THROW(render(printRule, json{{"matched", true}, {"rule", 7}}));
    EXPECT_NO_THROW(render(printCpuFreq, json{{"khz", "odd"}}));
}

TEST(Format, StateSummarisesLibvirtAndEveryDomain) {
    json s = {{"version", "0.1.0"},
              {"libvirt", {{"uri", "qemu:///system"}, {"connected", true}, {"connects", 2}}},
              {"ready", true},
              {"domains", {{{"name", "a"}}, {{"name", "b"}}}}};
    std::string out = render(printState, s);
    EXPECT_NE(out.find("vmpowerd 0.1.0, libvirt qemu:///system connected (2 connect(s)), ready"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("2 running domain(s) tracked"), std::string::npos);
    EXPECT_NE(out.find("VM a"), std::string::npos);
    EXPECT_NE(out.find("VM b"), std::string::npos);
}

TEST(Format, ChannelsTableHasOneRowPerChannel) {
    json a = {{"channels",
               {{{"vm", "a"}, {"index", 0}, {"state", "refused"}, {"last_error", "refused: pid 1"}},
                {{"vm", "b"}, {"index", 1}, {"state", "disabled"}}}}};
    std::string out = render(printChannels, a);
    EXPECT_NE(out.find("a   0        refused"), std::string::npos) << out;
    EXPECT_NE(out.find("refused: pid 1"), std::string::npos);
    EXPECT_NE(out.find("b   1        disabled"), std::string::npos);
    EXPECT_NE(render(printChannels, json{{"channels", json::array()}}).find("no power channels"),
              std::string::npos);
}

// The statistics' columns come from the protocol's list, in its order:
// show-vm shows each one marked for it, list-channels the Everywhere ones.
TEST(Format, ChannelStatisticsFollowTheProtocol) {
    json c = {{"index", 0}, {"state", "x"}, {"path", "/p"}, {"last_error", ""}};
    std::string vm_header = "Channel  State", list_header = "VM  Channel  State";
    int n = 0;
    for (const auto& s : protocol::object::kChannelStatistics) {
        c[std::string(s.key)] = ++n;
        if (s.shown >= protocol::object::Shown::ShowVm) vm_header += "  " + std::string(s.heading);
        if (s.shown == protocol::object::Shown::Everywhere)
            list_header += "  " + std::string(s.heading);
    }
    const std::string vm = render(printDomain, json{{"channels", {c}}});
    EXPECT_NE(vm.find(vm_header), std::string::npos) << vm;
    json listed = c;
    listed["vm"] = "a";  // no wider than its heading: the columns stay two apart
    const std::string list = render(printChannels, json{{"channels", {listed}}});
    EXPECT_NE(list.find(list_header), std::string::npos) << list;
}

TEST(Format, CpuFreqInKhzAndGhz) {
    json a = {{"cpu", 2},
              {"khz", 2400000},
              {"available_khz", {1200000, 2400000}},
              {"turbo", false},
              {"vcpus", {{{"vm", "vm1"}, {"vcpu", 0}}}}};
    EXPECT_EQ(render(printCpuFreq, a),
              "CPU 2: 2400000 kHz (2.40 GHz)\n"
              "  available (kHz): 1200000 2400000\n"
              "  turbo: no\n"
              "  pinned vCPUs: vm1 vCPU 0\n");
}

TEST(Format, PolicyShowsTheRuleOrThatNoneMatches) {
    json a = {{"vm", "vm1"},
              {"uuid", "u1"},
              {"running", true},
              {"matched", true},
              {"rule_index", 0},
              {"rule",
               {{"label", "default"},
                {"override", false},
                {"pcpus", nullptr},
                {"effective_pcpus", "2-3"},
                {"commands", {"up", "down"}},
                {"floor_khz", 0},
                {"ceiling_khz", 3000000},
                {"rate", 100.0},
                {"burst", 20},
                {"queries", true},
                {"record_format", "dpdk-464"}}}};
    std::string out = render(printRule, a);
    EXPECT_NE(out.find("rule #0 'default'"), std::string::npos) << out;
    EXPECT_NE(out.find("the pCPUs its vCPUs are pinned to (now: 2-3)"), std::string::npos) << out;
    EXPECT_NE(out.find("commands       up down"), std::string::npos) << out;
    EXPECT_NE(out.find("queries        yes"), std::string::npos) << out;
    std::string none = render(printRule, json{{"vm", "x"}, {"matched", false}});
    EXPECT_NE(none.find("no rule matches"), std::string::npos);
}

}  // namespace
}  // namespace vmpower::ctl

namespace vmpower::ctl {
namespace {

TEST(Format, CpuFreqShowsWhoRunsOnItsPolicyAndWhoAsked) {
    json a = {{"cpu", 2},
              {"khz", 1200000},
              {"available_khz", {800000, 1200000}},
              {"turbo", true},
              {"vcpus", {{{"vm", "a"}, {"vcpu", 0}}}},
              {"policy",
               {{"name", "policy2"},
                {"cpus", "2-3"},
                {"stakeholders", {"a", "b"}},
                {"host_cpus", ""},
                {"holds", {{{"holder", "a"}, {"vcpu", 0}, {"khz", 800000}, {"turbo", nullptr}}}},
                {"consent", false},
                {"found_ceiling_khz", 3400000},
                {"note", ""}}}};
    const std::string s = render(printCpuFreq, a);
    EXPECT_NE(s.find("  cpufreq policy policy2 (CPUs 2-3)\n    runs there: a, b\n"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("    a       0     800000"), std::string::npos) << s;
    EXPECT_NE(s.find("may be slowed: no, only raised to >= 3400000 kHz"), std::string::npos) << s;
}

TEST(Format, DomainShowsItsLastRefusal) {
    const std::string s = render(
        printDomain,
        json{{"name", "a"}, {"last_power_refusal", "policy2 (CPUs 2-3) is shared with b, ..."}});
    EXPECT_NE(s.find("  last refused: policy2 (CPUs 2-3) is shared with b"), std::string::npos)
        << s;
}

TEST(Format, EnergyTableHasAVmRowPerVmAndTheHost) {
    json a = {{"ok", true},
              {"available", true},
              {"interval_ms", 1000},
              {"samples", 5},
              {"packages",
               {{{"name", "package-0"}, {"host_uj", 30000000}, {"power_w", 40.0}},
                {{"name", "package-1"}, {"host_uj", 1000000}, {"power_w", 10.0}}}},
              {"vms",
               {{{"name", "busy"},
                 {"energy_uj", 12345678},
                 {"power_w", 30.0},
                 {"package_share", {0.75, 0.0}}},
                {{"name", "idle"},
                 {"energy_uj", 1000},
                 {"power_w", 0.5},
                 {"gap", true},
                 {"package_share", {0.0, 0.05}},
                 {"problem", "no /run/libvirt/qemu/idle.pid yet"}}}}};
    std::string out = render(printEnergy, a);
    EXPECT_NE(out.find("VM      Joules    Watts    package-0  package-1"), std::string::npos)
        << out;
    EXPECT_NE(out.find("busy    12.346 J  30.00 W  75.0%      0.0%"), std::string::npos) << out;
    EXPECT_NE(out.find("idle *  0.001 J   0.50 W   0.0%       5.0%"), std::string::npos) << out;
    EXPECT_NE(out.find("(host)  31.000 J  19.50 W  25.0%      95.0%"), std::string::npos) << out;
    EXPECT_NE(out.find("idle: no /run/libvirt/qemu/idle.pid yet"), std::string::npos) << out;
    EXPECT_NE(out.find("* counted across a restart"), std::string::npos) << out;
    std::string none =
        render(printEnergy, json{{"available", false}, {"reason", "/sys/class/powercap: gone"}});
    EXPECT_EQ(none, "energy: unavailable (/sys/class/powercap: gone)\n");
}

TEST(Format, EnergyTableSaysWhoHasTheIdleEnergy) {
    json a = {{"available", true},
              {"interval_ms", 1000},
              {"samples", 5},
              {"idle", "vcpus"},
              {"packages", {{{"name", "package-0"}, {"host_uj", 0}, {"power_w", 40.0}}}},
              {"vms",
               {{{"name", "busy"},
                 {"energy_uj", 30000000},
                 {"idle_uj", 10000000},
                 {"power_w", 30.0},
                 {"package_share", {0.75}}},
                {{"name", "idle"},
                 {"energy_uj", 10000000},
                 {"idle_uj", 10000000},
                 {"power_w", 10.0},
                 {"package_share", {0.25}}}}}};
    std::string out = render(printEnergy, a);
    EXPECT_NE(out.find("shared among the VMs by their vCPUs (energy_idle: vcpus)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("VM      Joules    Idle      Watts    package-0"), std::string::npos) << out;
    EXPECT_NE(out.find("busy    30.000 J  10.000 J  30.00 W  75.0%"), std::string::npos) << out;
    EXPECT_NE(out.find("(host)  0.000 J   -         0.00 W   0.0%"), std::string::npos) << out;
    a["idle"] = "host";
    EXPECT_NE(render(printEnergy, a).find("is the host's (energy_idle: host)"), std::string::npos);
}

TEST(Format, DomainShowsItsIdleEnergyInVcpusMode) {
    json d = {{"name", "vm1"},
              {"energy_uj", 2500000},
              {"power_w", 1.25},
              {"energy", {{"idle", "vcpus"}, {"idle_uj", 500000}}}};
    EXPECT_NE(render(printDomain, d).find("  of which idle: 0.500 J (its vCPUs' share"),
              std::string::npos)
        << render(printDomain, d);
    d["energy"]["idle"] = "host";
    EXPECT_EQ(render(printDomain, d).find("of which idle"), std::string::npos);
}

TEST(Format, DomainShowsHowItsTrafficIsSampled) {
    json policy = {{"type", "traffic"},
                   {"vcpus", {0}},
                   {"set_by", "guest"},
                   {"decision", "2000 packets/s: middle"},
                   {"refusal", ""},
                   {"traffic_sampling",
                    {{"interval_ms", 2000},
                     {"last_sample_ms", 850},
                     {"samples", 3},
                     {"failures", 0},
                     {"last_error", ""},
                     {"in_flight", false}}}};
    json d = {{"name", "vm1"}, {"host_policy", policy}};
    EXPECT_NE(render(printDomain, d)
                  .find("  host policy: traffic sampled every 2.0 s (last sample took 850 ms)\n"),
              std::string::npos)
        << render(printDomain, d);
    policy["traffic_sampling"]["failures"] = 2;
    policy["traffic_sampling"]["last_error"] = "virDomainListGetStats: timed out";
    policy["traffic_sampling"]["in_flight"] = true;
    d["host_policy"] = policy;
    EXPECT_NE(render(printDomain, d)
                  .find("traffic sampled every 2.0 s (a sample in flight), 2 failed, last: "
                        "virDomainListGetStats: timed out\n"),
              std::string::npos)
        << render(printDomain, d);
}

TEST(Format, DomainShowsItsEnergyOrWhyNot) {
    json d = {{"name", "vm1"}, {"energy_uj", 2500000}, {"power_w", 1.25}};
    EXPECT_NE(render(printDomain, d).find("energy: 2.500 J, 1.25 W now"), std::string::npos);
    json u = {{"name", "vm1"},
              {"energy_uj", nullptr},
              {"power_w", nullptr},
              {"energy", "unavailable: no RAPL"}};
    EXPECT_NE(render(printDomain, u).find("energy: unavailable: no RAPL"), std::string::npos);
}

}  // namespace
}  // namespace vmpower::ctl

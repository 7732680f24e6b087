#pragma once
// The control socket's protocol (one JSON object per line each way): every
// command's name, its arguments, whether the read-only group may run it, and
// the JSON keys of requests and replies. The one definition both ends spell
// them from: vmpowerd's command table (agent/commands), vmpowerctl, and the
// Python tests (through control_protocol.json, written from this table at
// build time by control_protocol_json.cpp). Only the standard library: a
// client includes it without any of the agent.
//
// A request is {"cmd": NAME, ARG: value, ...}; an answer {"ok": true, KEY:
// value, ...} or {"ok": false, "error": "NAME: why"}.

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string_view>

namespace vmpower::protocol {

// Every key of a request or a reply, each word once.
namespace key {
// Every request and reply.
inline constexpr std::string_view kCmd = "cmd";
inline constexpr std::string_view kOk = "ok";
inline constexpr std::string_view kError = "error";
// Request arguments (set-policy's others are common/host_policy.h's fields).
inline constexpr std::string_view kName = "name";  // a VM's name or UUID
inline constexpr std::string_view kCpu = "cpu";
inline constexpr std::string_view kAction = "action";
inline constexpr std::string_view kVcpu = "vcpu";
inline constexpr std::string_view kPcpus = "pcpus";
inline constexpr std::string_view kIndex = "index";
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kType = "type";
inline constexpr std::string_view kVcpus = "vcpus";
inline constexpr std::string_view kWorkload = "workload";
inline constexpr std::string_view kBusyHours = "busy_hours";
inline constexpr std::string_view kQuietHours = "quiet_hours";
inline constexpr std::string_view kTrafficHours = "traffic_hours";
inline constexpr std::string_view kMinPps = "min_pps";
inline constexpr std::string_view kMiddlePps = "middle_pps";
inline constexpr std::string_view kMaxPps = "max_pps";
inline constexpr std::string_view kMacs = "macs";
// state, show-vm: the agent, a domain, its vCPUs.
inline constexpr std::string_view kVersion = "version";
inline constexpr std::string_view kCommands = "commands";
inline constexpr std::string_view kLibvirt = "libvirt";
inline constexpr std::string_view kUri = "uri";
inline constexpr std::string_view kConnected = "connected";
inline constexpr std::string_view kConnects = "connects";
inline constexpr std::string_view kReady = "ready";
inline constexpr std::string_view kDomains = "domains";
inline constexpr std::string_view kUuid = "uuid";
inline constexpr std::string_view kId = "id";
inline constexpr std::string_view kEmulatorPcpus = "emulator_pcpus";
inline constexpr std::string_view kChannels = "channels";
inline constexpr std::string_view kProblems = "problems";
inline constexpr std::string_view kIntentHostPolicy = "intent_host_policy";
inline constexpr std::string_view kHostPolicy = "host_policy";
inline constexpr std::string_view kLastPowerRefusal = "last_power_refusal";
inline constexpr std::string_view kIntent = "intent";
inline constexpr std::string_view kLevelText = "level_text";
inline constexpr std::string_view kFrom = "from";
// A power channel (show-vm, list-channels); its counters are below.
inline constexpr std::string_view kPath = "path";
inline constexpr std::string_view kAlias = "alias";
inline constexpr std::string_view kState = "state";
inline constexpr std::string_view kEnabled = "enabled";
inline constexpr std::string_view kNacksByReason = "nacks_by_reason";
inline constexpr std::string_view kLastError = "last_error";
inline constexpr std::string_view kVm = "vm";
// show-cpu-freq, set-cpu-freq: a CPU and the cpufreq policy it shares.
inline constexpr std::string_view kKhz = "khz";
inline constexpr std::string_view kAvailableKhz = "available_khz";
inline constexpr std::string_view kTurbo = "turbo";
inline constexpr std::string_view kHostCpus = "host_cpus";
inline constexpr std::string_view kCpufreqPolicy = "policy";
inline constexpr std::string_view kCpus = "cpus";
inline constexpr std::string_view kStakeholders = "stakeholders";
inline constexpr std::string_view kHolds = "holds";
inline constexpr std::string_view kHolder = "holder";
inline constexpr std::string_view kConsent = "consent";
inline constexpr std::string_view kFoundCeilingKhz = "found_ceiling_khz";
inline constexpr std::string_view kNote = "note";
inline constexpr std::string_view kAffects = "affects";
inline constexpr std::string_view kReleased = "released";
// A vCPU's intent (state, show-vm); besides kKhz, kTurbo, kRefusal.
inline constexpr std::string_view kLevel = "level";
inline constexpr std::string_view kOrigin = "origin";
inline constexpr std::string_view kAt = "at";
inline constexpr std::string_view kApplied = "applied";
inline constexpr std::string_view kFromTop = "from_top";
inline constexpr std::string_view kOf = "of";
// show-cpu-freq's cpufreq policy, besides the keys above.
inline constexpr std::string_view kAppliedKhz = "applied_khz";
inline constexpr std::string_view kTurboFile = "turbo_file";
inline constexpr std::string_view kTurboGlobal = "turbo_global";
inline constexpr std::string_view kTurboConsent = "turbo_consent";
// show-rule (old name show-policy): a VM's access rule.
inline constexpr std::string_view kRunning = "running";
inline constexpr std::string_view kMatched = "matched";
inline constexpr std::string_view kRuleIndex = "rule_index";
inline constexpr std::string_view kRule = "rule";
inline constexpr std::string_view kLabel = "label";
inline constexpr std::string_view kOverride = "override";
inline constexpr std::string_view kEffectivePcpus = "effective_pcpus";
inline constexpr std::string_view kFloorKhz = "floor_khz";
inline constexpr std::string_view kCeilingKhz = "ceiling_khz";
inline constexpr std::string_view kRate = "rate";
inline constexpr std::string_view kBurst = "burst";
inline constexpr std::string_view kPhysical = "physical";
inline constexpr std::string_view kQueries = "queries";
inline constexpr std::string_view kMultiPcpu = "multi_pcpu";
inline constexpr std::string_view kSharedPcpus = "shared_pcpus";
inline constexpr std::string_view kRecordFormat = "record_format";
inline constexpr std::string_view kOverrides = "overrides";
// A host policy (show-vm, set-policy).
inline constexpr std::string_view kSetBy = "set_by";
inline constexpr std::string_view kDecision = "decision";
inline constexpr std::string_view kRefusal = "refusal";
// A host policy that measures traffic: how its statistics are sampled
// (besides kIntervalMs, kSamples, kLastError).
inline constexpr std::string_view kTrafficSampling = "traffic_sampling";
inline constexpr std::string_view kLastSampleMs = "last_sample_ms";
inline constexpr std::string_view kFailures = "failures";
inline constexpr std::string_view kInFlight = "in_flight";
// energy, show-vm.
inline constexpr std::string_view kAvailable = "available";
inline constexpr std::string_view kReason = "reason";
inline constexpr std::string_view kIntervalMs = "interval_ms";
inline constexpr std::string_view kSamples = "samples";
inline constexpr std::string_view kPackages = "packages";
inline constexpr std::string_view kVms = "vms";
inline constexpr std::string_view kEnergy = "energy";
inline constexpr std::string_view kEnergyUj = "energy_uj";
inline constexpr std::string_view kHostUj = "host_uj";
inline constexpr std::string_view kVmsUj = "vms_uj";
inline constexpr std::string_view kIdle = "idle";
inline constexpr std::string_view kIdleUj = "idle_uj";
inline constexpr std::string_view kPowerW = "power_w";
inline constexpr std::string_view kGap = "gap";
inline constexpr std::string_view kPackageShare = "package_share";
inline constexpr std::string_view kWatchedS = "watched_s";
inline constexpr std::string_view kVcpuUj = "vcpu_uj";
inline constexpr std::string_view kProblem = "problem";
// metrics.
inline constexpr std::string_view kText = "text";
// state: the one loop's turns (agent/common/loop_turns.h).
inline constexpr std::string_view kLoop = "loop";
inline constexpr std::string_view kTurns = "turns";
inline constexpr std::string_view kSlowTurns = "slow_turns";
inline constexpr std::string_view kLongestTurnS = "longest_turn_s";
}  // namespace key

// The commands' names on the wire.
namespace cmd {
inline constexpr std::string_view kPing = "ping";
inline constexpr std::string_view kVersion = "version";
inline constexpr std::string_view kState = "state";
inline constexpr std::string_view kShowVm = "show-vm";
inline constexpr std::string_view kListChannels = "list-channels";
inline constexpr std::string_view kShowCpuFreq = "show-cpu-freq";
inline constexpr std::string_view kSetCpuFreq = "set-cpu-freq";
// The operator's set-cpu-freq holds until this releases it.
inline constexpr std::string_view kReleaseCpuFreq = "release-cpu-freq";
inline constexpr std::string_view kSetPcpu = "set-pcpu";
inline constexpr std::string_view kSetChannelStatus = "set-channel-status";
inline constexpr std::string_view kSetQuery = "set-query";
// A VM's access rule from the config file; kShowPolicy is its old name,
// still answered (kAliases).
inline constexpr std::string_view kShowRule = "show-rule";
inline constexpr std::string_view kShowPolicy = "show-policy";
// DPDK's host policies (PKT_POLICY): set and drop one.
inline constexpr std::string_view kSetPolicy = "set-policy";
inline constexpr std::string_view kRemovePolicy = "remove-policy";
inline constexpr std::string_view kEnergy = "energy";
inline constexpr std::string_view kReload = "reload";
// Every VM's holds and host policies released, their kept intent forgotten.
inline constexpr std::string_view kReleaseAll = "release-all";
inline constexpr std::string_view kMetrics = "metrics";
}  // namespace cmd

using Keys = std::span<const std::string_view>;

// Objects inside replies: the keys each always has.
namespace object {
// One counter of a power channel: its control-JSON key, where vmpowerctl
// shows it, and its Prometheus family (agent/metrics). The one list of the
// statistics: a new counter is one row here (and its value in
// agent/view/channel_statistics.h). Rows of one Prometheus family are
// adjacent; the family's help is on its first row.
enum class Shown { Nowhere, ShowVm, Everywhere };  // Everywhere: list-channels too
struct ChannelStatistic {
    std::string_view key;
    std::string_view heading;  // vmpowerctl's column
    Shown shown;
    std::string_view metric = {};  // the Prometheus family; empty: not exported
    std::string_view help = {};
    std::string_view result = {};  // the family's `result` label, if any
};
inline constexpr std::array<ChannelStatistic, 9> kChannelStatistics{{
    {key::kConnects, "Connects", Shown::Everywhere, "vmpower_channel_connects_total",
     "Connections made to the channel's QEMU socket."},
    {"records", "Records", Shown::Everywhere},
    {"acked", "ACK", Shown::Everywhere, "vmpower_replies_total", "Replies to the guest by result.",
     "ack"},
    {"nacked", "NACK", Shown::Everywhere, "vmpower_replies_total", "", "nack"},
    {"answered", "Answered", Shown::Nowhere, "vmpower_replies_total", "", "answer"},
    {"ignored", "Ignored", Shown::Nowhere, "vmpower_requests_ignored_total",
     "Records answered with nothing (CONNECT probes, unknown commands)."},
    {"rate_limited", "Limited", Shown::ShowVm, "vmpower_requests_rate_limited_total",
     "Requests refused by the rule's rate limit (also counted as nack)."},
    {"replies_sent", "Sent", Shown::Nowhere},
    {"replies_dropped", "Dropped", Shown::ShowVm, "vmpower_replies_dropped_total",
     "Replies dropped because the guest did not read them (queue full)."},
}};

// The keys besides the statistics.
inline constexpr std::array kChannelDescription{key::kIndex,    key::kPath,    key::kAlias,
                                                key::kState,    key::kEnabled, key::kNacksByReason,
                                                key::kLastError};
inline constexpr auto kChannel = [] {
    std::array<std::string_view, kChannelDescription.size() + kChannelStatistics.size()> out{};
    auto end = std::copy(kChannelDescription.begin(), kChannelDescription.end(), out.begin());
    for (const auto& s : kChannelStatistics) *end++ = s.key;
    return out;
}();
inline constexpr std::array kDomain{
    key::kName,          key::kUuid,     key::kId,       key::kVcpus,
    key::kEmulatorPcpus, key::kChannels, key::kProblems, key::kIntentHostPolicy};
inline constexpr std::array kVcpu{key::kVcpu, key::kPcpus, key::kIntent};
inline constexpr std::array kRule{
    key::kLabel,  key::kOverride,  key::kName,        key::kUuid,
    key::kPcpus,  key::kCommands,  key::kFloorKhz,    key::kCeilingKhz,
    key::kRate,   key::kBurst,     key::kPhysical,    key::kQueries,
    key::kEnergy, key::kMultiPcpu, key::kSharedPcpus, key::kRecordFormat};
}  // namespace object

namespace detail {
template <std::size_t N, std::size_t M>
constexpr std::array<std::string_view, N + M> joined(const std::array<std::string_view, N>& a,
                                                     const std::array<std::string_view, M>& b) {
    std::array<std::string_view, N + M> out{};
    std::copy(b.begin(), b.end(), std::copy(a.begin(), a.end(), out.begin()));
    return out;
}
inline constexpr std::array<std::string_view, 0> kNone{};
inline constexpr std::array kNameArg{key::kName};
inline constexpr std::array kCpuArg{key::kCpu};
inline constexpr std::array kSetCpuFreqArgs{key::kCpu, key::kAction};
inline constexpr std::array kSetPcpuArgs{key::kName, key::kVcpu, key::kPcpus};
inline constexpr std::array kSetChannelStatusArgs{key::kName, key::kIndex, key::kStatus};
inline constexpr std::array kSetQueryArgs{key::kName, key::kAction};
inline constexpr std::array kSetPolicyArgs{key::kName, key::kType, key::kVcpus};
inline constexpr std::array kSetPolicyOptional{
    key::kWorkload, key::kBusyHours, key::kQuietHours, key::kTrafficHours,
    key::kMinPps,   key::kMiddlePps, key::kMaxPps,     key::kMacs};
inline constexpr std::array kVersionReply{key::kVersion, key::kCommands};
inline constexpr std::array kStateReply{key::kVersion, key::kLibvirt, key::kReady, key::kDomains,
                                        key::kLoop};
inline constexpr auto kShowVmReply =
    joined(object::kDomain, std::array{key::kLastPowerRefusal, key::kHostPolicy, key::kEnergyUj,
                                       key::kPowerW, key::kEnergy});
inline constexpr std::array kChannelsReply{key::kChannels};
inline constexpr std::array kShowCpuFreqReply{key::kCpu,   key::kKhz,   key::kAvailableKhz,
                                              key::kTurbo, key::kVcpus, key::kHostCpus};
inline constexpr std::array kAffectsReply{key::kAffects};
inline constexpr std::array kStateOnlyReply{key::kState};
inline constexpr std::array kReleasedReply{key::kReleased};
inline constexpr std::array kSetQueryReply{key::kQueries, key::kNote};
inline constexpr std::array kShowRuleReply{key::kVm, key::kUuid, key::kRunning, key::kMatched};
inline constexpr std::array kEnergyReply{key::kAvailable};
inline constexpr std::array kMetricsReply{key::kText};
}  // namespace detail

struct Command {
    std::string_view name;
    bool read_only;  // the control socket's read-only group may run it
    Keys args;       // required besides "cmd"
    Keys optional;   // may be sent too
    Keys reply;      // in every {"ok": true} answer besides "ok"
};

// In the order `version` lists them.
inline constexpr std::array<Command, 18> kCommands{{
    {cmd::kPing, true, detail::kNone, detail::kNone, detail::kNone},
    {cmd::kVersion, true, detail::kNone, detail::kNone, detail::kVersionReply},
    {cmd::kState, true, detail::kNone, detail::kNone, detail::kStateReply},
    {cmd::kShowVm, true, detail::kNameArg, detail::kNone, detail::kShowVmReply},
    {cmd::kListChannels, true, detail::kNone, detail::kNone, detail::kChannelsReply},
    {cmd::kShowCpuFreq, true, detail::kCpuArg, detail::kNone, detail::kShowCpuFreqReply},
    {cmd::kSetCpuFreq, false, detail::kSetCpuFreqArgs, detail::kNone, detail::kAffectsReply},
    {cmd::kReleaseCpuFreq, false, detail::kCpuArg, detail::kNone, detail::kNone},
    {cmd::kSetPcpu, false, detail::kSetPcpuArgs, detail::kNone, detail::kNone},
    {cmd::kSetChannelStatus, false, detail::kSetChannelStatusArgs, detail::kNone,
     detail::kStateOnlyReply},
    {cmd::kSetQuery, false, detail::kSetQueryArgs, detail::kNone, detail::kSetQueryReply},
    {cmd::kShowRule, true, detail::kNameArg, detail::kNone, detail::kShowRuleReply},
    // The reply's host_policy is there when the policy is in force.
    {cmd::kSetPolicy, false, detail::kSetPolicyArgs, detail::kSetPolicyOptional, detail::kNone},
    {cmd::kRemovePolicy, false, detail::kNameArg, detail::kNone, detail::kNone},
    {cmd::kEnergy, true, detail::kNone, detail::kNone, detail::kEnergyReply},
    {cmd::kReload, false, detail::kNone, detail::kNone, detail::kNone},
    {cmd::kReleaseAll, false, detail::kNone, detail::kNone, detail::kReleasedReply},
    {cmd::kMetrics, true, detail::kNone, detail::kNone, detail::kMetricsReply},
}};

// Old names the agent still answers: each is the command `name`.
struct Alias {
    std::string_view alias;
    std::string_view name;
};
inline constexpr std::array<Alias, 1> kAliases{{
    {cmd::kShowPolicy, cmd::kShowRule},
}};

// By name or old name; nullptr for a name the protocol lacks.
constexpr const Command* findCommand(std::string_view name) {
    for (const auto& a : kAliases) {
        if (a.alias == name) name = a.name;
    }
    for (const auto& c : kCommands) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

}  // namespace vmpower::protocol

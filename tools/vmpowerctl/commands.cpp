#include "commands.h"

#include <algorithm>
#include <array>
#include <optional>

#include "args.h"
#include "control_client.h"
#include "control_protocol.h"
#include "cpu_limits.h"
#include "cpu_set.h"
#include "format.h"
#include "power_action.h"

#ifndef VMPOWER_VERSION
#define VMPOWER_VERSION "unknown"
#endif

namespace vmpower::ctl {

namespace {

namespace key = protocol::key;
namespace cmd = protocol::cmd;

using Args = std::vector<std::string>;
using Printer = std::function<void(std::ostream&, const json&)>;

std::string errorText(const json& answer) {
    auto it = answer.find(key::kError);
    return it != answer.end() && it->is_string() ? escapedText(it->get_ref<const std::string&>())
                                                 : "the agent refused";
}

// Sends one request; prints the answer (JSON or via `print`); 0 or 1.
int ask(Invocation& inv, const json& request, Printer print) {
    json answer = inv.agent(request);
    bool ok = answer.is_object() && answer.value(key::kOk, false);
    if (inv.json) inv.out << answer.dump(2) << '\n';
    if (!ok) {
        inv.err << "vmpowerctl: " << errorText(answer) << '\n';
        return kExitRefused;
    }
    if (!inv.json && print) print(inv.out, answer);
    return kExitOk;
}

void printNothing(std::ostream&, const json&) {}

std::string oneOf(const std::string& word, std::initializer_list<std::string_view> choices) {
    std::string all;
    for (auto c : choices) {
        if (word == c) return word;
        all += all.empty() ? "" : "|";
        all += c;
    }
    throw UsageError("'" + word + "' is not one of " + all);
}

// One of the agent's power action names (common/power_action.h).
std::string powerActionWord(const std::string& word) {
    if (parsePowerAction(word)) return word;
    throw UsageError("'" + word + "' is not one of " + joinedNames(kPowerActionNames, "|"));
}

int showVm(Invocation& inv, const Args& a) {
    if (a.empty()) return ask(inv, {{key::kCmd, cmd::kState}}, printState);
    return ask(inv, {{key::kCmd, cmd::kShowVm}, {key::kName, a[0]}}, printDomain);
}

int state(Invocation& inv, const Args&) {
    return ask(inv, {{key::kCmd, cmd::kState}}, printState);
}

int listChannels(Invocation& inv, const Args&) {
    return ask(inv, {{key::kCmd, cmd::kListChannels}}, printChannels);
}

int showCpuFreq(Invocation& inv, const Args& a) {
    unsigned cpu = parseNumber(a[0], kMaxCpu, "a CPU number");
    return ask(inv, {{key::kCmd, cmd::kShowCpuFreq}, {key::kCpu, cpu}}, printCpuFreq);
}

int setCpuFreq(Invocation& inv, const Args& a) {
    unsigned cpu = parseNumber(a[0], kMaxCpu, "a CPU number");
    std::string action = powerActionWord(a[1]);
    return ask(inv, {{key::kCmd, cmd::kSetCpuFreq}, {key::kCpu, cpu}, {key::kAction, action}},
               [&](std::ostream& out, const json& answer) {
                   out << "CPU " << cpu << ": " << action << " applied";
                   std::string vms;
                   if (answer.contains(key::kAffects) && answer[key::kAffects].is_array()) {
                       for (const auto& v : answer[key::kAffects])
                           if (v.is_string())
                               vms += (vms.empty() ? "" : ", ") +
                                      escapedText(v.get_ref<const std::string&>());
                   }
                   // Root's override of the shared-hardware rule: say whom it touches.
                   out << (vms.empty() ? " (no running VM shares it)" : "; it affects " + vms)
                       << '\n';
               });
}

int setPcpu(Invocation& inv, const Args& a) {
    unsigned vcpu = parseNumber(a[1], kMaxCpu, "a vCPU number");
    int rc = ask(
        inv,
        {{key::kCmd, cmd::kSetPcpu}, {key::kName, a[0]}, {key::kVcpu, vcpu}, {key::kPcpus, a[2]}},
        printNothing);
    if (rc == kExitOk && !inv.json) {
        inv.out << a[0] << ": vCPU " << vcpu << " pinned to pCPUs " << a[2] << " (live)\n";
    }
    return rc;
}

// A MASK argument: DPDK's hex core mask (0x30) or a cpulist (4-5), never
// empty. One definition of both: CpuSet.
CpuSet cpusArgument(const std::string& word) {
    auto set = CpuSet::parseMaskOrList(word);
    if (!set) {
        throw UsageError("'" + word + "' is neither a hex core mask (like 0x30) nor a cpulist " +
                         "(like 4-5) of CPUs up to " + std::to_string(kMaxCpu));
    }
    if (set->empty()) throw UsageError("'" + word + "' names no CPU");
    return *set;
}

int showCpuFreqMask(Invocation& inv, const Args& a) {
    int rc = kExitOk;
    for (unsigned cpu : cpusArgument(a[0]).cpus()) {
        rc = std::max(rc,
                      ask(inv, {{key::kCmd, cmd::kShowCpuFreq}, {key::kCpu, cpu}}, printCpuFreq));
    }
    return rc;
}

// Every CPU is checked (the agent knows it and it has cpufreq) before the
// first is changed: a mask with one wrong CPU changes nothing. Each change
// is then the operator's set-cpu-freq, arbitrated like any other.
int setCpuFreqMask(Invocation& inv, const Args& a) {
    const std::vector<unsigned> cpus = cpusArgument(a[0]).cpus();
    const std::string action = powerActionWord(a[1]);
    for (unsigned cpu : cpus) {
        json known = inv.agent({{key::kCmd, cmd::kShowCpuFreq}, {key::kCpu, cpu}});
        if (!known.is_object() || !known.value(key::kOk, false)) {
            // The agent's refusal names the CPU ("CPU 9 has no cpufreq").
            inv.err << "vmpowerctl: " << errorText(known) << "; nothing was changed\n";
            return kExitRefused;
        }
    }
    int rc = kExitOk;
    for (unsigned cpu : cpus) {
        rc = std::max(rc, setCpuFreq(inv, {std::to_string(cpu), action}));
    }
    return rc;
}

int setPcpuMask(Invocation& inv, const Args& a) {
    return setPcpu(inv, {a[0], a[1], cpusArgument(a[2]).toString()});
}

// DPDK takes a list of channels; "all" asks the agent which there are.
// nullopt: the agent refused (already reported).
std::optional<std::vector<unsigned>> channelIndexes(Invocation& inv, const std::string& vm,
                                                    const std::string& list) {
    if (auto parsed = parseIndexList(list)) return parsed;
    json d = inv.agent({{key::kCmd, cmd::kShowVm}, {key::kName, vm}});
    if (!d.is_object() || !d.value(key::kOk, false)) {
        inv.err << "vmpowerctl: " << errorText(d) << '\n';
        return std::nullopt;
    }
    std::vector<unsigned> out;
    for (const auto& c : d.value(key::kChannels, json::array()))
        out.push_back(c.value(key::kIndex, 0U));
    if (out.empty()) throw UsageError(vm + " has no power channels");
    return out;
}

int setChannelStatus(Invocation& inv, const Args& a) {
    std::string status = a[2] == "enable" ? "enabled" : a[2] == "disable" ? "disabled" : a[2];
    oneOf(status, {"enabled", "disabled"});
    auto indexes = channelIndexes(inv, a[0], a[1]);
    if (!indexes) return kExitRefused;
    int rc = kExitOk;
    for (unsigned index : *indexes) {
        json req = {{key::kCmd, cmd::kSetChannelStatus},
                    {key::kName, a[0]},
                    {key::kIndex, index},
                    {key::kStatus, status}};
        int one = ask(inv, req, [&](std::ostream& out, const json& answer) {
            out << a[0] << ": channel " << index << " "
                << escapedText(answer.value(key::kState, "?")) << '\n';
        });
        rc = std::max(rc, one);
    }
    return rc;
}

int setQuery(Invocation& inv, const Args& a) {
    std::string action = oneOf(a[1], {"enable", "disable"});
    return ask(inv, {{key::kCmd, cmd::kSetQuery}, {key::kName, a[0]}, {key::kAction, action}},
               [](std::ostream& out, const json& answer) {
                   out << "queries "
                       << (answer.value(key::kQueries, false) ? "enabled" : "disabled") << "; "
                       << escapedText(answer.value(key::kNote, "")) << '\n';
               });
}

// A VM's access rule (the agent answers its old name show-policy too).
int showRule(Invocation& inv, const Args& a) {
    return ask(inv, {{key::kCmd, cmd::kShowRule}, {key::kName, a[0]}}, printRule);
}

int releaseCpuFreq(Invocation& inv, const Args& a) {
    unsigned cpu = parseNumber(a[0], kMaxCpu, "a CPU number");
    return ask(inv, {{key::kCmd, cmd::kReleaseCpuFreq}, {key::kCpu, cpu}},
               [&](std::ostream& out, const json&) {
                   out << "CPU " << cpu << ": released; the VMs' requests there are taken again\n";
               });
}

int energy(Invocation& inv, const Args&) {
    return ask(inv, {{key::kCmd, cmd::kEnergy}}, printEnergy);
}

int reload(Invocation& inv, const Args&) {
    return ask(inv, {{key::kCmd, cmd::kReload}}, [](std::ostream& out, const json&) {
        out << "config reloaded: the new policy is in force\n";
    });
}

int releaseAll(Invocation& inv, const Args&) {
    return ask(inv, {{key::kCmd, cmd::kReleaseAll}}, [](std::ostream& out, const json& answer) {
        out << "released " << answer.value(key::kReleased, 0)
            << " VM(s): their holds and host policies are given back and not kept\n";
    });
}

int metrics(Invocation& inv, const Args&) {
    return ask(inv, {{key::kCmd, cmd::kMetrics}}, [](std::ostream& out, const json& answer) {
        out << escapedText(answer.value(key::kText, ""), true);
    });
}

int ping(Invocation& inv, const Args&) {
    return ask(inv, {{key::kCmd, cmd::kPing}},
               [](std::ostream& out, const json&) { out << "vmpowerd is alive\n"; });
}

int version(Invocation& inv, const Args&) {
    if (!inv.json) inv.out << "vmpowerctl " << VMPOWER_VERSION << '\n';
    return ask(inv, {{key::kCmd, cmd::kVersion}}, printVersion);
}

// add_vm, rm_vm, add_channels, remove_channels: DPDK's operator does these by
// hand; vmpowerd does them from libvirt events. Say so, then show what is
// tracked (status 0 if the VM is, 1 if not).
int zeroTouch(Invocation& inv, const std::string& vm, std::string_view why) {
    if (!inv.json) inv.out << why << "\n\n";
    return ask(inv, {{key::kCmd, cmd::kShowVm}, {key::kName, vm}}, printDomain);
}

// DPDK's commands that vmpowerd makes unnecessary, and why.
constexpr char kAddVmWhy[] =
    "Nothing to do: vmpowerd adds every running domain by itself (libvirt lifecycle events), "
    "with its live vCPU map. Tracked now:";
constexpr char kRmVmWhy[] =
    "Nothing to do: vmpowerd forgets a domain when it stops. To stop serving a running VM: "
    "`set-channel-status VM all disabled`, or a policy rule with `commands: []` and `reload`. "
    "Tracked now:";
constexpr char kAddChannelsWhy[] =
    "Nothing to do: vmpowerd connects every virtio.serial.port.poweragent.N channel of a running "
    "domain (hot-plugged ones too) and retries until QEMU listens. To re-open one you disabled: "
    "`set-channel-status VM N enabled`. Tracked now:";
constexpr char kRemoveChannelsWhy[] =
    "Nothing to do: vmpowerd closes channels when the domain stops or the device is unplugged. "
    "To close one now and keep it closed: `set-channel-status VM N disabled`. Tracked now:";

template <const char* Why>
int zeroTouchCommand(Invocation& inv, const Args& a) {
    return zeroTouch(inv, a[0], Why);
}

// set-policy's KEY=VALUE words and the request keys they become.
enum class ValueForm { Word, Hours, Number, List };
struct PolicyWord {
    std::string_view word;
    std::string_view key;
    ValueForm form;
};
constexpr std::array<PolicyWord, 8> kPolicyWords{{
    {"workload", key::kWorkload, ValueForm::Word},
    {"busy", key::kBusyHours, ValueForm::Hours},
    {"quiet", key::kQuietHours, ValueForm::Hours},
    {"traffic", key::kTrafficHours, ValueForm::Hours},
    {"min_pps", key::kMinPps, ValueForm::Number},
    {"middle_pps", key::kMiddlePps, ValueForm::Number},
    {"max_pps", key::kMaxPps, ValueForm::Number},
    {"macs", key::kMacs, ValueForm::List},
}};

json policyValue(const PolicyWord& w, const std::string& value) {
    const std::string word(w.word);
    switch (w.form) {
        case ValueForm::Word:
            return value;
        case ValueForm::Hours:
            if (auto hours = parseIndexList(value)) return *hours;
            throw UsageError(word + " takes hours such as 9-17,20");
        case ValueForm::Number:
            return parseNumber(value, UINT32_MAX, word);
        case ValueForm::List:
            break;
    }
    json items = json::array();
    for (std::size_t from = 0; from <= value.size();) {
        const auto comma = std::min(value.find(',', from), value.size());
        items.push_back(value.substr(from, comma - from));
        from = comma + 1;
    }
    return items;
}

// set-policy VM TYPE VCPUS [KEY=VALUE ...]: the words become the agent's
// JSON (agent/commands/host_policy_json.h), which the agent checks.
int setPolicy(Invocation& inv, const Args& a) {
    json req = {{key::kCmd, cmd::kSetPolicy}, {key::kName, a[0]}, {key::kType, a[1]}};
    auto vcpus = parseIndexList(a[2]);
    if (!vcpus) throw UsageError("VCPUS must be a list such as 0 or 0-1,3");
    req[key::kVcpus] = *vcpus;
    for (std::size_t i = 3; i < a.size(); ++i) {
        const auto eq = a[i].find('=');
        if (eq == std::string::npos) throw UsageError("'" + a[i] + "' is not KEY=VALUE");
        const std::string word = a[i].substr(0, eq), value = a[i].substr(eq + 1);
        auto w = std::find_if(kPolicyWords.begin(), kPolicyWords.end(),
                              [&](const PolicyWord& p) { return p.word == word; });
        if (w == kPolicyWords.end()) {
            std::string all;
            for (const auto& p : kPolicyWords)
                all += (all.empty() ? "" : ", ") + std::string(p.word);
            throw UsageError("unknown key '" + word + "' (" + all + ")");
        }
        req[w->key] = policyValue(*w, value);
    }
    return ask(inv, req, [&](std::ostream& out, const json& answer) {
        printHostPolicy(out, a[0], answer.value(key::kHostPolicy, json(nullptr)));
    });
}

int removePolicy(Invocation& inv, const Args& a) {
    int rc = ask(inv, {{key::kCmd, cmd::kRemovePolicy}, {key::kName, a[0]}}, printNothing);
    if (rc == kExitOk && !inv.json)
        inv.out << a[0] << ": host policy removed; its vCPUs run as the VM's own requests say\n";
    return rc;
}

int help(Invocation& inv, const Args& a) {
    if (a.empty()) {
        printHelp(inv.out);
        return kExitOk;
    }
    const CtlCommand* c = findCommand(a[0]);
    if (c == nullptr) throw UsageError("no command '" + a[0] + "' (see help)");
    printUsage(inv.out, *c);
    inv.out << "  " << c->help << '\n';
    return kExitOk;
}

int quit(Invocation&, const Args&) {
    return kExitOk;
}  // the prompt ends on it

constexpr std::size_t kAny = 64;

int shell(Invocation& inv, const Args&) {
    inv.out << "already at the vm_power> prompt\n";
    return kExitOk;
}  // main.cpp starts the prompt for `vmpowerctl shell`

constexpr std::array<CtlCommand, 28> kCommands{{
    {"show-vm", "", true, "[VM]", "a VM's vCPU->pCPU map and channels (all VMs without VM)", 0, 1,
     showVm},
    {"show-cpu-freq", "", true, "CPU",
     "a host CPU's frequency, its steps and the vCPUs pinned to it", 1, 1, showCpuFreq},
    {"set-cpu-freq", "", true, "CPU up|down|min|max|middle|enable_turbo|disable_turbo",
     "scale a host CPU as the operator; held until release-cpu-freq", 2, 2, setCpuFreq},
    {"release-cpu-freq", "", false, "CPU",
     "give back the operator's set-cpu-freq on a CPU: the VMs' requests are taken again", 1, 1,
     releaseCpuFreq},
    {"set-pcpu", "", true, "VM VCPU CPULIST", "pin a vCPU to host CPUs (live, through libvirt)", 3,
     3, setPcpu},
    {"show-cpu-freq-mask", "", true, "MASK",
     "show-cpu-freq for every CPU of a hex core mask (0x30) or cpulist (4-5)", 1, 1,
     showCpuFreqMask},
    {"set-cpu-freq-mask", "", true, "MASK up|down|min|max|middle|enable_turbo|disable_turbo",
     "set-cpu-freq on every CPU of MASK; one unknown CPU and nothing changes", 2, 2,
     setCpuFreqMask},
    {"set-pcpu-mask", "", true, "VM VCPU MASK", "set-pcpu with a hex core mask or a cpulist", 3, 3,
     setPcpuMask},
    {"set-channel-status", "", true, "VM CHANNELS enabled|disabled",
     "close a channel and keep it closed, or re-open it (CHANNELS: 0, 0-2,5 or all)", 3, 3,
     setChannelStatus},
    {"set-query", "", true, "VM enable|disable",
     "allow or refuse a VM's frequency/capability queries until the next reload", 2, 2, setQuery},
    {"set-policy", "", false, "VM TYPE VCPUS [KEY=VALUE...]",
     "set a VM's host policy, DPDK's PKT_POLICY (time, workload, traffic, branch_ratio)", 3, kAny,
     setPolicy},
    {"remove-policy", "", false, "VM", "drop a VM's host policy (the guest's or the operator's)", 1,
     1, removePolicy},
    {"show-rule", "show-policy", false, "VM",
     "the config file's access rule for a VM: what it may ask (old name: show-policy)", 1, 1,
     showRule},
    {"list-channels", "", false, "", "every power channel of every running VM", 0, 0, listChannels},
    {"energy", "", false, "", "each VM's energy (joules, watts, share of each CPU package)", 0, 0,
     energy},
    {"state", "dump-state", false, "", "everything vmpowerd tracks: domains, channels, vCPU maps",
     0, 0, state},
    {"reload", "", false, "", "re-read the config file (as SIGHUP); an invalid one is refused", 0,
     0, reload},
    {"release-all", "", false, "",
     "give back every VM's holds and host policies now and forget them (a restart restores "
     "none)",
     0, 0, releaseAll},
    {"version", "", false, "", "vmpowerctl's and vmpowerd's versions, the agent's commands", 0, 0,
     version},
    {"metrics", "", false, "", "the agent's metrics in Prometheus text format", 0, 0, metrics},
    {"ping", "", false, "", "is vmpowerd answering?", 0, 0, ping},
    {"add-vm", "", true, "VM", "(automatic in vmpowerd) shows what is tracked for VM", 1, 1,
     zeroTouchCommand<kAddVmWhy>},
    {"rm-vm", "", true, "VM", "(automatic in vmpowerd) shows what is tracked for VM", 1, 1,
     zeroTouchCommand<kRmVmWhy>},
    {"add-channels", "", true, "VM [CHANNELS]", "(automatic in vmpowerd) shows the VM's channels",
     1, kAny, zeroTouchCommand<kAddChannelsWhy>},
    {"remove-channels", "", true, "VM [CHANNELS]",
     "(automatic in vmpowerd) shows the VM's channels", 1, kAny,
     zeroTouchCommand<kRemoveChannelsWhy>},
    {"help", "", false, "[COMMAND]", "this list, or one command's usage", 0, 1, help},
    {"shell", "", false, "", "the interactive vm_power> prompt (also: no COMMAND)", 0, 0, shell},
    {"quit", "exit", true, "", "leave the prompt", 0, 0, quit},
}};

}  // namespace

std::span<const CtlCommand> commandTable() {
    return kCommands;
}

const CtlCommand* findCommand(std::string_view name) {
    std::string canon = canonicalName(name);
    for (const auto& c : kCommands) {
        if (c.name == canon || (!c.alias.empty() && c.alias == canon)) return &c;
    }
    return nullptr;
}

void printUsage(std::ostream& out, const CtlCommand& c) {
    out << "usage: " << c.name << (c.args.empty() ? "" : " ") << c.args << '\n';
}

void printHelp(std::ostream& out) {
    out << "Commands (DPDK vm_power_manager's names with '_' work too, e.g. set_cpu_freq):\n";
    for (const auto& c : kCommands) {
        std::string head = std::string(c.name) + (c.args.empty() ? "" : " ") + std::string(c.args);
        constexpr std::size_t kColumn = 36;
        out << "  " << head;
        // A long usage gets its own line; the help text stays in its column.
        out << (head.size() < kColumn ? std::string(kColumn - head.size(), ' ')
                                      : "\n" + std::string(kColumn + 2, ' '))
            << c.help << '\n';
    }
    // "Policy" means three things around vmpowerd: say which is which.
    out << "A rule is the config file's access rule for a VM (show-rule); a host policy is DPDK's\n"
           "PKT_POLICY (set-policy, remove-policy); a cpufreq policy is the kernel's group of "
           "CPUs\n"
           "that share a frequency (show-cpu-freq).\n";
    out << "Exit status: 0 ok, 1 the agent refused, 2 cannot reach the agent or usage error.\n";
}

int runCommand(const std::vector<std::string>& words, Invocation& inv) {
    if (words.empty()) return kExitOk;
    const CtlCommand* c = findCommand(words[0]);
    if (c == nullptr) {
        inv.err << "vmpowerctl: unknown command '" << words[0] << "' (see help)\n";
        return kExitUsage;
    }
    std::vector<std::string> args(words.begin() + 1, words.end());
    try {
        if (args.size() < c->min_args || args.size() > c->max_args) {
            throw UsageError(args.size() < c->min_args ? "missing arguments"
                                                       : "too many arguments");
        }
        return c->run(inv, args);
    } catch (const UsageError& e) {
        inv.err << "vmpowerctl: " << c->name << ": " << e.what() << '\n';
        printUsage(inv.err, *c);
        return kExitUsage;
    } catch (const ControlError& e) {
        inv.err << "vmpowerctl: " << e.what() << '\n';
        return kExitUnreachable;
    } catch (const std::exception& e) {  // a malformed answer: not the operator's fault
        inv.err << "vmpowerctl: " << c->name << ": unexpected answer from vmpowerd: " << e.what()
                << '\n';
        return kExitUnreachable;
    }
}

}  // namespace vmpower::ctl

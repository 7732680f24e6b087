#include "format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "control_protocol.h"
#include "table.h"

namespace vmpower::ctl {

namespace {

namespace key = protocol::key;
using protocol::object::kChannelStatistics;
using Shown = protocol::object::Shown;

// Any JSON scalar as text; missing -> "-".
std::string text(const json& obj, std::string_view field) {
    if (!obj.is_object()) return "-";
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return "-";
    if (it->is_string()) return escapedText(it->get_ref<const std::string&>());
    if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
    return it->dump();
}

std::string joined(const json& obj, std::string_view field, const char* sep = " ") {
    if (!obj.is_object() || !obj.contains(field) || !obj[field].is_array()) return "-";
    std::string out;
    for (const auto& v : obj[field]) {
        if (!out.empty()) out += sep;
        out += v.is_string() ? escapedText(v.get_ref<const std::string&>()) : v.dump();
    }
    return out.empty() ? "(none)" : out;
}

bool flag(const json& obj, std::string_view field) {
    if (!obj.is_object()) return false;
    auto it = obj.find(field);
    return it != obj.end() && it->is_boolean() && it->get<bool>();
}

const json& objectAt(const json& obj, std::string_view field) {
    static const json kEmpty = json::object();
    if (!obj.is_object()) return kEmpty;
    auto it = obj.find(field);
    return it != obj.end() && it->is_object() ? *it : kEmpty;
}

const json& arrayAt(const json& obj, std::string_view field) {
    static const json kEmpty = json::array();
    if (!obj.is_object()) return kEmpty;
    auto it = obj.find(field);
    return it != obj.end() && it->is_array() ? *it : kEmpty;
}

// A table of power channels: the `first` columns, the statistics `view`
// (show-vm or list-channels) shows, in the protocol's order, then the path
// and the last error.
Table channelTable(std::vector<std::string> first, Shown view) {
    for (const auto& s : kChannelStatistics) {
        if (s.shown >= view) first.emplace_back(s.heading);
    }
    first.insert(first.end(), {"Path", "Last error"});
    return Table(std::move(first));
}

std::vector<std::string> channelRow(std::vector<std::string> first, const json& channel,
                                    Shown view) {
    for (const auto& s : kChannelStatistics) {
        if (s.shown >= view) first.push_back(text(channel, s.key));
    }
    first.push_back(text(channel, key::kPath));
    first.push_back(text(channel, key::kLastError));
    return first;
}

// The length of the valid UTF-8 sequence at s[i] that is neither a control
// nor a C1 control, or 0.
std::size_t printableUtf8(std::string_view s, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b = byte(i);
    if (b >= 0x20 && b < 0x7f) return 1;
    std::size_t n = b >= 0xc2 && b <= 0xdf   ? 2
                    : (b & 0xf0) == 0xe0     ? 3
                    : b >= 0xf0 && b <= 0xf4 ? 4
                                             : 0;
    if (n == 0 || i + n > s.size()) return 0;
    std::uint32_t cp = b & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3f);
    }
    const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    const bool bad = overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp < 0xa0;
    return bad ? 0 : n;
}

}  // namespace

std::string escapedText(std::string_view raw, bool keep_newlines) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size();) {
        if (std::size_t n = printableUtf8(raw, i)) {
            out.append(raw.substr(i, n));
            i += n;
            continue;
        }
        const char c = raw[i++];
        switch (c) {
            case '\n':
                out += keep_newlines ? "\n" : "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\x1b':
                out += "\\e";
                break;
            default: {
                char hex[8];
                std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned char>(c));
                out += hex;
            }
        }
    }
    return out;
}

std::string joulesText(double uj) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.3f J", uj / 1e6);
    return buf;
}

std::string wattsText(double w) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.2f W", w);
    return buf;
}

void printEnergy(std::ostream& out, const json& a) {
    if (!flag(a, key::kAvailable)) {
        out << "energy: unavailable (" << text(a, key::kReason) << ")\n";
        return;
    }
    const json& packages = arrayAt(a, key::kPackages);
    out << "energy sampled every " << text(a, key::kIntervalMs) << " ms (" << text(a, key::kSamples)
        << " samples); shares are of each package's last interval\n";
    // agent.energy_idle: an agent from before it has none (the host's).
    const bool idle_to_vms = text(a, key::kIdle) == "vcpus";
    out << (idle_to_vms ? "idle energy (what no VM ran for) is shared among the VMs by their "
                          "vCPUs (energy_idle: vcpus): the Idle column\n"
                        : "idle energy (what no VM ran for) is the host's (energy_idle: host)\n");
    std::vector<std::string> header = {"VM", "Joules"};
    if (idle_to_vms) header.push_back("Idle");
    header.push_back("Watts");
    for (const auto& p : packages) header.push_back(text(p, key::kName));
    Table t(header);
    auto number = [](const json& obj, std::string_view field) {
        auto it = obj.is_object() ? obj.find(field) : obj.end();
        return it != obj.end() && it->is_number() ? it->get<double>() : 0.0;
    };
    auto percent = [](double share) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
        return std::string(buf);
    };
    std::vector<double> vm_share(packages.size(), 0);
    double vm_watts = 0;
    for (const auto& vm : arrayAt(a, key::kVms)) {
        std::vector<std::string> row = {text(vm, key::kName) + (flag(vm, key::kGap) ? " *" : ""),
                                        joulesText(number(vm, key::kEnergyUj))};
        if (idle_to_vms) row.push_back(joulesText(number(vm, key::kIdleUj)));
        row.push_back(wattsText(number(vm, key::kPowerW)));
        vm_watts += number(vm, key::kPowerW);
        const json& shares = arrayAt(vm, key::kPackageShare);
        for (std::size_t i = 0; i < packages.size(); ++i) {
            double s = i < shares.size() && shares[i].is_number() ? shares[i].get<double>() : 0;
            vm_share[i] += s;
            row.push_back(percent(s));
        }
        t.add(row);
    }
    double host_uj = 0, package_watts = 0;
    for (const auto& p : packages) {
        host_uj += number(p, key::kHostUj);
        package_watts += number(p, key::kPowerW);
    }
    std::vector<std::string> host = {"(host)", joulesText(host_uj)};
    if (idle_to_vms) host.push_back("-");
    host.push_back(wattsText(std::max(0.0, package_watts - vm_watts)));
    for (double s : vm_share) host.push_back(percent(std::max(0.0, 1.0 - s)));
    t.add(host);
    t.print(out);
    for (const auto& vm : arrayAt(a, key::kVms)) {
        if (vm.contains(key::kProblem))
            out << text(vm, key::kName) << ": " << text(vm, key::kProblem) << '\n';
    }
    if (std::any_of(arrayAt(a, key::kVms).begin(), arrayAt(a, key::kVms).end(),
                    [&](const json& vm) { return flag(vm, key::kGap); })) {
        out << "* counted across a restart of vmpowerd: what the VM used meanwhile is missing\n";
    }
}

std::string khzText(std::uint64_t khz) {
    char ghz[32];
    std::snprintf(ghz, sizeof ghz, "%.2f", static_cast<double>(khz) / 1e6);
    return std::to_string(khz) + " kHz (" + ghz + " GHz)";
}

// "traffic sampled every 2.0 s (last sample took 850 ms)", and its failures.
std::string trafficSamplingText(const json& s) {
    auto ms = [&](std::string_view field) -> std::optional<double> {
        auto it = s.find(field);
        if (it == s.end() || !it->is_number()) return std::nullopt;
        return it->get<double>();
    };
    char every[32] = "-";
    if (auto interval = ms(key::kIntervalMs))
        std::snprintf(every, sizeof every, "%.1f s", *interval / 1000);
    std::string line = std::string("traffic sampled every ") + every;
    if (flag(s, key::kInFlight)) {
        line += " (a sample in flight)";
    } else if (auto took = ms(key::kLastSampleMs)) {
        line += " (last sample took " + std::to_string(std::llround(*took)) + " ms)";
    } else {
        line += " (no sample yet)";
    }
    if (const std::string failures = text(s, key::kFailures); failures != "-" && failures != "0")
        line += ", " + failures + " failed";
    if (const std::string why = text(s, key::kLastError); why != "-" && !why.empty())
        line += ", last: " + why;
    return line;
}

void printHostPolicy(std::ostream& out, const std::string& who, const json& p) {
    if (!p.is_object()) {
        out << who << ": no host policy\n";
        return;
    }
    std::string vcpus;
    for (const auto& v : arrayAt(p, key::kVcpus)) vcpus += (vcpus.empty() ? "" : ",") + v.dump();
    out << who << ": " << text(p, key::kType) << " on vCPUs " << vcpus << " (set by "
        << text(p, key::kSetBy) << "): " << text(p, key::kDecision) << '\n';
    if (const std::string why = text(p, key::kRefusal); why != "-" && !why.empty())
        out << who << " refused: " << why << '\n';
    if (const json& s = objectAt(p, key::kTrafficSampling); !s.empty())
        out << who << ": " << trafficSamplingText(s) << '\n';
}

void printDomain(std::ostream& out, const json& d) {
    out << "VM " << text(d, key::kName) << "  uuid " << text(d, key::kUuid) << "  id "
        << text(d, key::kId) << '\n';
    // Each vCPU's held level and where it came from (a guest's request, or
    // a live migration: docs/operations.md).
    Table vcpus({"vCPU", "pCPUs", "Level", "Where from"});
    for (const auto& v : arrayAt(d, key::kVcpus)) {
        const json& intent = objectAt(v, key::kIntent);
        std::string level = text(intent, key::kLevelText);
        if (intent.contains(key::kTurbo) && intent[key::kTurbo].is_boolean()) {
            level += intent[key::kTurbo].get<bool>() ? ", turbo on" : ", turbo off";
        }
        vcpus.add({text(v, key::kVcpu), text(v, key::kPcpus), level, text(intent, key::kFrom)});
    }
    if (vcpus.empty()) {
        out << "  no vCPU map\n";
    } else {
        vcpus.print(out, 2);
    }
    Table channels = channelTable({"Channel", "State"}, Shown::ShowVm);
    for (const auto& c : arrayAt(d, key::kChannels)) {
        channels.add(channelRow({text(c, key::kIndex), text(c, key::kState)}, c, Shown::ShowVm));
    }
    if (channels.empty()) {
        out << "  no power channels (virtio.serial.port.poweragent.N) in its XML\n";
    } else {
        channels.print(out, 2);
    }
    for (const auto& c : arrayAt(d, key::kChannels)) {
        std::string reasons;
        for (const auto& [reason, n] : objectAt(c, key::kNacksByReason).items())
            reasons += (reasons.empty() ? "" : ", ") + escapedText(reason) + " " + n.dump();
        if (!reasons.empty())
            out << "  channel " << text(c, key::kIndex) << " NACKs by reason: " << reasons << '\n';
    }
    if (const std::string hp = text(d, key::kHostPolicy); hp != "-") {
        out << "  host policy in its intent: " << hp << " (not applied)\n";
    }
    for (const auto& p : arrayAt(d, key::kProblems)) {
        out << "  problem: "
            << (p.is_string() ? escapedText(p.get_ref<const std::string&>()) : p.dump()) << '\n';
    }
    if (const std::string why = text(d, key::kLastPowerRefusal); why != "-" && !why.empty()) {
        out << "  last refused: " << why << '\n';
    }
    if (d.is_object() && d.contains(key::kHostPolicy) && d[key::kHostPolicy].is_object())
        printHostPolicy(out, "  host policy", d[key::kHostPolicy]);
    if (d.is_object() && d.contains(key::kEnergyUj)) {
        const json& uj = d[key::kEnergyUj];
        const json& w = d[key::kPowerW];
        if (uj.is_number() && w.is_number()) {
            const json& details = objectAt(d, key::kEnergy);
            out << "  energy: " << joulesText(uj.get<double>()) << ", "
                << wattsText(w.get<double>()) << " now"
                << (flag(details, key::kGap) ? " (counted across an agent restart)" : "") << '\n';
            if (text(details, key::kIdle) == "vcpus") {
                const json& idle = details.contains(key::kIdleUj) ? details[key::kIdleUj] : json();
                out << "  of which idle: "
                    << joulesText(idle.is_number() ? idle.get<double>() : 0.0)
                    << " (its vCPUs' share of what no VM ran for; energy_idle: vcpus)\n";
            }
        } else {
            out << "  energy: " << text(d, key::kEnergy) << '\n';
        }
    }
}

void printState(std::ostream& out, const json& s) {
    const json& lv = objectAt(s, key::kLibvirt);
    out << "vmpowerd " << text(s, key::kVersion) << ", libvirt " << text(lv, key::kUri) << " "
        << (flag(lv, key::kConnected) ? "connected" : "NOT connected") << " ("
        << text(lv, key::kConnects) << " connect(s)), "
        << (flag(s, key::kReady) ? "ready" : "not ready yet") << '\n';
    const json& domains = arrayAt(s, key::kDomains);
    out << domains.size() << " running domain(s) tracked\n";
    for (const auto& d : domains) {
        out << '\n';
        printDomain(out, d);
    }
}

void printChannels(std::ostream& out, const json& a) {
    Table t = channelTable({"VM", "Channel", "State"}, Shown::Everywhere);
    for (const auto& c : arrayAt(a, key::kChannels)) {
        t.add(channelRow({text(c, key::kVm), text(c, key::kIndex), text(c, key::kState)}, c,
                         Shown::Everywhere));
    }
    if (t.empty()) {
        out << "no power channels (no running domain has a virtio.serial.port.poweragent.N)\n";
        return;
    }
    t.print(out);
}

void printCpuFreq(std::ostream& out, const json& a) {
    out << "CPU " << text(a, key::kCpu) << ": "
        << (a.is_object() && a.contains(key::kKhz) && a[key::kKhz].is_number_integer() &&
                    a[key::kKhz] >= 0
                ? khzText(a[key::kKhz].get<std::uint64_t>())
                : text(a, key::kKhz))
        << '\n';
    out << "  available (kHz): " << joined(a, key::kAvailableKhz) << '\n';
    out << "  turbo: " << text(a, key::kTurbo) << '\n';
    std::string users;
    for (const auto& u : arrayAt(a, key::kVcpus)) {
        users += (users.empty() ? "" : ", ") + text(u, key::kVm) + " vCPU " + text(u, key::kVcpu);
    }
    out << "  pinned vCPUs: " << (users.empty() ? "(none)" : users) << '\n';
    // The hardware this CPU shares: who runs there, who asked for what.
    const json& p = objectAt(a, key::kCpufreqPolicy);
    if (p.empty()) return;
    out << "  cpufreq policy " << text(p, key::kName) << " (CPUs " << text(p, key::kCpus) << ")\n";
    std::string host = text(p, key::kHostCpus);
    out << "    runs there: " << joined(p, key::kStakeholders, ", ")
        << (host.empty() || host == "-" ? "" : ", and host CPUs " + host) << '\n';
    Table holds({"Holder", "vCPU", "kHz", "Turbo"});
    for (const auto& h : arrayAt(p, key::kHolds)) {
        holds.add(
            {text(h, key::kHolder), text(h, key::kVcpu), text(h, key::kKhz), text(h, key::kTurbo)});
    }
    if (holds.empty()) {
        out << "    holds: (none)\n";
    } else {
        holds.print(out, 4);
    }
    out << "    may be slowed: "
        << (flag(p, key::kConsent)
                ? "yes, everybody on it asked"
                : "no, only raised to >= " + text(p, key::kFoundCeilingKhz) + " kHz")
        << '\n';
    if (const std::string note = text(p, key::kNote); note != "-" && !note.empty()) {
        out << "    " << note << '\n';
    }
}

void printRule(std::ostream& out, const json& a) {
    out << "VM " << text(a, key::kVm) << "  uuid " << text(a, key::kUuid) << "  "
        << (flag(a, key::kRunning) ? "running" : "not running") << '\n';
    if (!flag(a, key::kMatched)) {
        out << "  no rule matches: every request is answered NACK and no CPU is touched\n";
        return;
    }
    const json& r = objectAt(a, key::kRule);
    out << "  rule #" << text(a, key::kRuleIndex) << " '" << text(r, key::kLabel) << "'"
        << (flag(r, key::kOverride) ? " (a set-query override until the next reload)" : "") << '\n';
    std::string pcpus = r.contains(key::kPcpus) && r[key::kPcpus].is_string()
                            ? text(r, key::kPcpus)
                            : "the pCPUs its vCPUs are pinned to";
    if (r.contains(key::kEffectivePcpus)) pcpus += " (now: " + text(r, key::kEffectivePcpus) + ")";
    // Each row is named by the rule's key (the config file's word too).
    Table t({"Key", "Value"});
    auto row = [&](std::string_view k, std::string value) {
        t.add({std::string(k), std::move(value)});
    };
    row(key::kPcpus, pcpus);
    row(key::kCommands, joined(r, key::kCommands));
    for (auto k : {key::kFloorKhz, key::kCeilingKhz}) row(k, text(r, k));
    row(key::kRate, text(r, key::kRate) + " per second, burst " + text(r, key::kBurst));
    for (auto k :
         {key::kPhysical, key::kQueries, key::kMultiPcpu, key::kSharedPcpus, key::kRecordFormat})
        row(k, text(r, k));
    t.print(out, 2);
}

void printVersion(std::ostream& out, const json& a) {
    out << "vmpowerd " << text(a, key::kVersion) << '\n';
    out << "  commands: " << joined(a, key::kCommands) << '\n';
}

}  // namespace vmpower::ctl

#include "format.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "table.h"

namespace vmpower::ctl {

namespace {

// Any JSON scalar as text; missing -> "-".
std::string text(const json& obj, const char* key) {
    if (!obj.is_object()) return "-";
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return "-";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
    return it->dump();
}

std::string joined(const json& obj, const char* key, const char* sep = " ") {
    if (!obj.is_object() || !obj.contains(key) || !obj[key].is_array()) return "-";
    std::string out;
    for (const auto& v : obj[key]) {
        if (!out.empty()) out += sep;
        out += v.is_string() ? v.get<std::string>() : v.dump();
    }
    return out.empty() ? "(none)" : out;
}

bool flag(const json& obj, const char* key) {
    if (!obj.is_object()) return false;
    auto it = obj.find(key);
    return it != obj.end() && it->is_boolean() && it->get<bool>();
}

const json& objectAt(const json& obj, const char* key) {
    static const json kEmpty = json::object();
    if (!obj.is_object()) return kEmpty;
    auto it = obj.find(key);
    return it != obj.end() && it->is_object() ? *it : kEmpty;
}

const json& arrayAt(const json& obj, const char* key) {
    static const json kEmpty = json::array();
    if (!obj.is_object()) return kEmpty;
    auto it = obj.find(key);
    return it != obj.end() && it->is_array() ? *it : kEmpty;
}

}  // namespace

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
    if (!flag(a, "available")) {
        out << "energy: unavailable (" << text(a, "reason") << ")\n";
        return;
    }
    const json& packages = arrayAt(a, "packages");
    out << "energy sampled every " << text(a, "interval_ms") << " ms (" << text(a, "samples")
        << " samples); shares are of each package's last interval\n";
    std::vector<std::string> header = {"VM", "Joules", "Watts"};
    for (const auto& p : packages) header.push_back(text(p, "name"));
    Table t(header);
    auto number = [](const json& obj, const char* key) {
        auto it = obj.is_object() ? obj.find(key) : obj.end();
        return it != obj.end() && it->is_number() ? it->get<double>() : 0.0;
    };
    auto percent = [](double share) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
        return std::string(buf);
    };
    std::vector<double> vm_share(packages.size(), 0);
    double vm_watts = 0;
    for (const auto& vm : arrayAt(a, "vms")) {
        std::vector<std::string> row = {text(vm, "name") + (flag(vm, "gap") ? " *" : ""),
                                        joulesText(number(vm, "energy_uj")),
                                        wattsText(number(vm, "power_w"))};
        vm_watts += number(vm, "power_w");
        const json& shares = arrayAt(vm, "package_share");
        for (std::size_t i = 0; i < packages.size(); ++i) {
            double s = i < shares.size() && shares[i].is_number() ? shares[i].get<double>() : 0;
            vm_share[i] += s;
            row.push_back(percent(s));
        }
        t.add(row);
    }
    double host_uj = 0, package_watts = 0;
    for (const auto& p : packages) {
        host_uj += number(p, "host_uj");
        package_watts += number(p, "power_w");
    }
    std::vector<std::string> host = {"(host)", joulesText(host_uj),
                                     wattsText(std::max(0.0, package_watts - vm_watts))};
    for (double s : vm_share) host.push_back(percent(std::max(0.0, 1.0 - s)));
    t.add(host);
    t.print(out);
    for (const auto& vm : arrayAt(a, "vms")) {
        if (vm.contains("problem")) out << text(vm, "name") << ": " << text(vm, "problem") << '\n';
    }
    if (std::any_of(arrayAt(a, "vms").begin(), arrayAt(a, "vms").end(),
                    [&](const json& vm) { return flag(vm, "gap"); })) {
        out << "* counted across a restart of vmpowerd: what the VM used meanwhile is missing\n";
    }
}

std::string khzText(std::uint64_t khz) {
    char ghz[32];
    std::snprintf(ghz, sizeof ghz, "%.2f", static_cast<double>(khz) / 1e6);
    return std::to_string(khz) + " kHz (" + ghz + " GHz)";
}

void printHostPolicy(std::ostream& out, const std::string& who, const json& p) {
    if (!p.is_object()) {
        out << who << ": no host policy\n";
        return;
    }
    std::string vcpus;
    for (const auto& v : arrayAt(p, "vcpus")) vcpus += (vcpus.empty() ? "" : ",") + v.dump();
    out << who << ": " << text(p, "type") << " on vCPUs " << vcpus << " (set by "
        << text(p, "set_by") << "): " << text(p, "decision") << '\n';
    if (const std::string why = text(p, "refusal"); why != "-" && !why.empty())
        out << who << " refused: " << why << '\n';
}

void printDomain(std::ostream& out, const json& d) {
    out << "VM " << text(d, "name") << "  uuid " << text(d, "uuid") << "  id " << text(d, "id")
        << '\n';
    // Each vCPU's held level and where it came from (a guest's request, or
    // a live migration: docs/operations.md).
    Table vcpus({"vCPU", "pCPUs", "Level", "Where from"});
    for (const auto& v : arrayAt(d, "vcpus")) {
        const json& intent = objectAt(v, "intent");
        std::string level = text(intent, "level_text");
        if (intent.contains("turbo") && intent["turbo"].is_boolean()) {
            level += intent["turbo"].get<bool>() ? ", turbo on" : ", turbo off";
        }
        vcpus.add({text(v, "vcpu"), text(v, "pcpus"), level, text(intent, "from")});
    }
    if (vcpus.empty()) {
        out << "  no vCPU map\n";
    } else {
        vcpus.print(out, 2);
    }
    Table channels({"Channel", "State", "Connects", "Records", "ACK", "NACK", "Limited", "Dropped",
                    "Path", "Last error"});
    for (const auto& c : arrayAt(d, "channels")) {
        channels.add({text(c, "index"), text(c, "state"), text(c, "connects"), text(c, "records"),
                      text(c, "acked"), text(c, "nacked"), text(c, "rate_limited"),
                      text(c, "replies_dropped"), text(c, "path"), text(c, "last_error")});
    }
    if (channels.empty()) {
        out << "  no power channels (virtio.serial.port.poweragent.N) in its XML\n";
    } else {
        channels.print(out, 2);
    }
    for (const auto& c : arrayAt(d, "channels")) {
        std::string reasons;
        for (const auto& [reason, n] : objectAt(c, "nacks_by_reason").items())
            reasons += (reasons.empty() ? "" : ", ") + reason + " " + n.dump();
        if (!reasons.empty())
            out << "  channel " << text(c, "index") << " NACKs by reason: " << reasons << '\n';
    }
    if (const std::string hp = text(d, "host_policy"); hp != "-") {
        out << "  host policy in its intent: " << hp << " (not applied)\n";
    }
    for (const auto& p : arrayAt(d, "problems")) {
        out << "  problem: " << (p.is_string() ? p.get<std::string>() : p.dump()) << '\n';
    }
    if (const std::string why = text(d, "last_power_refusal"); why != "-" && !why.empty()) {
        out << "  last refused: " << why << '\n';
    }
    if (d.is_object() && d.contains("host_policy") && d["host_policy"].is_object())
        printHostPolicy(out, "  host policy", d["host_policy"]);
    if (d.is_object() && d.contains("energy_uj")) {
        const json& uj = d["energy_uj"];
        const json& w = d["power_w"];
        if (uj.is_number() && w.is_number()) {
            out << "  energy: " << joulesText(uj.get<double>()) << ", "
                << wattsText(w.get<double>()) << " now"
                << (flag(objectAt(d, "energy"), "gap") ? " (counted across an agent restart)" : "")
                << '\n';
        } else {
            out << "  energy: " << text(d, "energy") << '\n';
        }
    }
}

void printState(std::ostream& out, const json& s) {
    const json& lv = objectAt(s, "libvirt");
    out << "vmpowerd " << text(s, "version") << ", libvirt " << text(lv, "uri") << " "
        << (flag(lv, "connected") ? "connected" : "NOT connected") << " (" << text(lv, "connects")
        << " connect(s)), " << (flag(s, "ready") ? "ready" : "not ready yet") << '\n';
    const json& domains = arrayAt(s, "domains");
    out << domains.size() << " running domain(s) tracked\n";
    for (const auto& d : domains) {
        out << '\n';
        printDomain(out, d);
    }
}

void printChannels(std::ostream& out, const json& a) {
    Table t({"VM", "Channel", "State", "Connects", "Records", "ACK", "NACK", "Path", "Last error"});
    for (const auto& c : arrayAt(a, "channels")) {
        t.add({text(c, "vm"), text(c, "index"), text(c, "state"), text(c, "connects"),
               text(c, "records"), text(c, "acked"), text(c, "nacked"), text(c, "path"),
               text(c, "last_error")});
    }
    if (t.empty()) {
        out << "no power channels (no running domain has a virtio.serial.port.poweragent.N)\n";
        return;
    }
    t.print(out);
}

void printCpuFreq(std::ostream& out, const json& a) {
    out << "CPU " << text(a, "cpu") << ": "
        << (a.is_object() && a.contains("khz") && a["khz"].is_number_integer() && a["khz"] >= 0
                ? khzText(a["khz"].get<std::uint64_t>())
                : text(a, "khz"))
        << '\n';
    out << "  available (kHz): " << joined(a, "available_khz") << '\n';
    out << "  turbo: " << text(a, "turbo") << '\n';
    std::string users;
    for (const auto& u : arrayAt(a, "vcpus")) {
        users += (users.empty() ? "" : ", ") + text(u, "vm") + " vCPU " + text(u, "vcpu");
    }
    out << "  pinned vCPUs: " << (users.empty() ? "(none)" : users) << '\n';
    // The hardware this CPU shares: who runs there, who asked for what.
    const json& p = objectAt(a, "policy");
    if (p.empty()) return;
    out << "  cpufreq policy " << text(p, "name") << " (CPUs " << text(p, "cpus") << ")\n";
    std::string host = text(p, "host_cpus");
    out << "    runs there: " << joined(p, "stakeholders", ", ")
        << (host.empty() || host == "-" ? "" : ", and host CPUs " + host) << '\n';
    Table holds({"Holder", "vCPU", "kHz", "Turbo"});
    for (const auto& h : arrayAt(p, "holds")) {
        holds.add({text(h, "holder"), text(h, "vcpu"), text(h, "khz"), text(h, "turbo")});
    }
    if (holds.empty()) {
        out << "    holds: (none)\n";
    } else {
        holds.print(out, 4);
    }
    out << "    may be slowed: "
        << (flag(p, "consent") ? "yes, everybody on it asked"
                               : "no, only raised to >= " + text(p, "found_ceiling_khz") + " kHz")
        << '\n';
    if (const std::string note = text(p, "note"); note != "-" && !note.empty()) {
        out << "    " << note << '\n';
    }
}

void printPolicy(std::ostream& out, const json& a) {
    out << "VM " << text(a, "vm") << "  uuid " << text(a, "uuid") << "  "
        << (flag(a, "running") ? "running" : "not running") << '\n';
    if (!flag(a, "matched")) {
        out << "  no rule matches: every request is answered NACK and no CPU is touched\n";
        return;
    }
    const json& r = objectAt(a, "rule");
    out << "  rule #" << text(a, "rule_index") << " '" << text(r, "label") << "'"
        << (flag(r, "override") ? " (a set-query override until the next reload)" : "") << '\n';
    std::string pcpus = r.contains("pcpus") && r["pcpus"].is_string()
                            ? text(r, "pcpus")
                            : "the pCPUs its vCPUs are pinned to";
    if (r.contains("effective_pcpus")) pcpus += " (now: " + text(r, "effective_pcpus") + ")";
    Table t({"Key", "Value"});
    t.add({"pcpus", pcpus});
    t.add({"commands", joined(r, "commands")});
    t.add({"floor_khz", text(r, "floor_khz")});
    t.add({"ceiling_khz", text(r, "ceiling_khz")});
    t.add({"rate", text(r, "rate") + " per second, burst " + text(r, "burst")});
    t.add({"physical", text(r, "physical")});
    t.add({"queries", text(r, "queries")});
    t.add({"multi_pcpu", text(r, "multi_pcpu")});
    t.add({"shared_pcpus", text(r, "shared_pcpus")});
    t.add({"record_format", text(r, "record_format")});
    t.print(out, 2);
}

void printVersion(std::ostream& out, const json& a) {
    out << "vmpowerd " << text(a, "version") << '\n';
    out << "  commands: " << joined(a, "commands") << '\n';
}

}  // namespace vmpower::ctl

// The control socket's commands (vmpowerctl, vmpowerd --dump-state): a table
// of name -> handler over the Agent's state.

#include <libvirt/libvirt.h>

#include <array>
#include <functional>
#include <string_view>

#include "agent.h"
#include "libvirt_handles.h"

namespace vmpower {

namespace {

using json = nlohmann::json;

json channelJson(const Channel& ch) {
    const auto& d = ch.description();
    auto s = ch.stats();
    return {{"index", d.index},
            {"path", d.source_path},
            {"alias", d.alias},
            {"state", Channel::stateName(ch.state())},
            {"connects", s.connects},
            {"records", s.requests.records},
            {"acked", s.requests.acked},
            {"nacked", s.requests.nacked},
            {"ignored", s.requests.ignored},
            {"rate_limited", s.requests.rate_limited},
            {"replies_sent", s.replies_sent},
            {"replies_dropped", s.replies_dropped},
            {"last_error", s.last_error}};
}

json domainJson(const Domain& d) {
    json vcpus = json::array();
    for (std::size_t v = 0; v < d.vcpus.vcpuCount(); ++v) {
        vcpus.push_back({{"vcpu", v}, {"pcpus", d.vcpus.pcpus(v).toString()}});
    }
    json channels = json::array();
    for (const auto& [index, ch] : d.channels) channels.push_back(channelJson(*ch));
    return {{"name", d.identity.name}, {"uuid", d.identity.uuid}, {"id", d.id},
            {"vcpus", vcpus},          {"channels", channels},    {"problems", d.problems}};
}

std::optional<PowerAction> parseAction(std::string_view s) {
    static constexpr std::array<std::pair<std::string_view, PowerAction>, 6> kActions{{
        {"up", PowerAction::ScaleUp},
        {"down", PowerAction::ScaleDown},
        {"max", PowerAction::Max},
        {"min", PowerAction::Min},
        {"enable_turbo", PowerAction::EnableTurbo},
        {"disable_turbo", PowerAction::DisableTurbo},
    }};
    for (const auto& [name, action] : kActions) {
        if (name == s) return action;
    }
    return std::nullopt;
}

json error(const std::string& msg) { return {{"ok", false}, {"error", msg}}; }

unsigned cpuArg(const json& req, const char* key) {
    const json& v = req.at(key);
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > CpuSet::kMaxCpu) {
        throw std::runtime_error(std::string(key) + " must be a CPU number");
    }
    return v.get<unsigned>();
}

}  // namespace

json Agent::state() const {
    json domains = json::array();
    for (const auto& [uuid, d] : registry_->domains()) domains.push_back(domainJson(*d));
    return {{"ok", true},
            {"libvirt", {{"uri", hypervisor_->uri()},
                         {"connected", hypervisor_->connected()},
                         {"connects", hypervisor_->connectCount()}}},
            {"ready", ready_},
            {"domains", domains}};
}

json Agent::control(const json& request) {
    if (!request.is_object() || !request.contains("cmd") || !request["cmd"].is_string()) {
        return error("a request is {\"cmd\": \"...\", ...}");
    }
    const std::string cmd = request["cmd"].get<std::string>();

    struct Command {
        std::string_view name;
        std::function<json(Agent&, const json&)> run;
    };
    static const std::array<Command, 7> kCommands{{
        {"ping", [](Agent&, const json&) { return json{{"ok", true}}; }},
        {"state", [](Agent& a, const json&) { return a.state(); }},
        {"show-vm",
         [](Agent& a, const json& req) {
             std::string name = req.value("name", "");
             for (const auto& [uuid, d] : a.registry().domains()) {
                 if (d->identity.name == name || uuid == name) {
                     json out = domainJson(*d);
                     out["ok"] = true;
                     return out;
                 }
             }
             return error("no running domain '" + name + "' (is it started?)");
         }},
        {"show-cpu-freq",
         [](Agent& a, const json& req) {
             unsigned cpu = cpuArg(req, "cpu");
             auto cur = a.power_.currentFrequency(cpu);
             if (!cur) return error("CPU " + std::to_string(cpu) + " has no cpufreq");
             return json{{"ok", true},
                         {"cpu", cpu},
                         {"khz", *cur},
                         {"available_khz", a.power_.availableFrequencies(cpu)},
                         {"turbo", a.power_.turboCapable(cpu)}};
         }},
        {"set-cpu-freq",
         [](Agent& a, const json& req) {
             unsigned cpu = cpuArg(req, "cpu");
             auto action = parseAction(req.value("action", ""));
             if (!action) return error("action must be up|down|min|max|enable_turbo|disable_turbo");
             // The operator holds requests like a VM does, so arbitration
             // still protects the VMs on that CPU.
             bool ok = a.power_.apply(Requester{"operator", cpu}, CpuSet{cpu}, *action, {});
             return ok ? json{{"ok", true}} : error("CPU " + std::to_string(cpu) + ": refused");
         }},
        {"set-pcpu",
         [](Agent& a, const json& req) {
             std::string name = req.value("name", "");
             unsigned vcpu = cpuArg(req, "vcpu");
             auto set = CpuSet::parse(req.value("pcpus", ""));
             if (!set || set->empty()) return error("pcpus must be a cpulist like 2-3,5");
             if (!a.hypervisor().connected()) return error("not connected to libvirt");
             DomainHandle dom(virDomainLookupByName(a.hypervisor().connection(), name.c_str()));
             if (!dom) return error(name + ": " + lastLibvirtError());
             std::vector<unsigned char> map(set->cpus().back() / 8 + 1, 0);
             for (unsigned c : set->cpus()) map[c / 8] = static_cast<unsigned char>(map[c / 8] | (1U << (c % 8)));
             if (virDomainPinVcpuFlags(dom.get(), vcpu, map.data(), static_cast<int>(map.size()),
                                       VIR_DOMAIN_AFFECT_LIVE) < 0) {
                 return error(name + ": " + lastLibvirtError());
             }
             return json{{"ok", true}};  // the TUNABLE event updates our map
         }},
        {"reload",
         [](Agent& a, const json&) {
             return a.reload() ? json{{"ok", true}}
                               : error("config not reloaded (see the agent's log); old policy kept");
         }},
    }};
    for (const auto& c : kCommands) {
        if (c.name == cmd) return c.run(*this, request);
    }
    return error("unknown command '" + cmd + "'");
}

}  // namespace vmpower

#include "energy_json.h"

#include <cmath>
#include <string>

#include "energy_sampler.h"

namespace vmpower {

namespace {

using json = nlohmann::json;

json vmJson(const EnergySampler& s, const std::string& uuid, const VmEnergy& e) {
    json out = {{"name", e.name},
                {"uuid", uuid},
                {"energy_uj", static_cast<std::uint64_t>(std::llround(e.energy_uj))},
                {"power_w", e.power_w},
                {"watched_s", e.watched_s},
                {"gap", e.gap},
                {"package_share", e.package_share}};
    json vcpus = json::array();
    for (double uj : e.vcpu_uj) vcpus.push_back(static_cast<std::uint64_t>(std::llround(uj)));
    out["vcpu_uj"] = vcpus;
    if (auto p = s.vmProblems().find(uuid); p != s.vmProblems().end()) out["problem"] = p->second;
    return out;
}

std::string unavailableText(const EnergySampler* s) {
    return s == nullptr ? "energy accounting is not part of this agent" : s->unavailableReason();
}

}  // namespace

json energyJson(const EnergySampler* s) {
    if (s == nullptr || !s->available()) {
        return {{"ok", true}, {"available", false}, {"reason", unavailableText(s)}};
    }
    const EnergyAccounting& a = *s->accounting();
    json packages = json::array();
    for (std::size_t i = 0; i < a.packages().size(); ++i) {
        const double last = a.lastPackageDeltaUj()[i];
        packages.push_back(
            {{"name", a.packages()[i].name},
             {"cpus", a.packages()[i].cpus.toString()},
             {"energy_uj", std::llround(a.packageEnergyUj()[i])},
             {"host_uj", std::llround(a.hostEnergyUj()[i])},
             {"power_w", a.lastIntervalS() > 0 ? last / 1e6 / a.lastIntervalS() : 0}});
    }
    json vms = json::array();
    for (const auto& [uuid, e] : a.vms()) vms.push_back(vmJson(*s, uuid, e));
    return {{"ok", true},
            {"available", true},
            {"interval_ms", s->settings().interval.count()},
            {"samples", s->samples()},
            {"packages", packages},
            {"vms", vms}};
}

void addVmEnergy(json& vm, const EnergySampler* s, std::string_view uuid) {
    vm["energy_uj"] = nullptr;
    vm["power_w"] = nullptr;
    if (s == nullptr || !s->available()) {
        vm["energy"] = "unavailable: " + unavailableText(s);
        return;
    }
    const VmEnergy* e = s->accounting()->vm(uuid);
    if (e == nullptr) {
        vm["energy"] = "not sampled yet";
        return;
    }
    vm["energy_uj"] = static_cast<std::uint64_t>(std::llround(e->energy_uj));
    vm["power_w"] = e->power_w;
    vm["energy"] = vmJson(*s, std::string(uuid), *e);
}

}  // namespace vmpower

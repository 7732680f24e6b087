#include "energy_json.h"

#include <string>

#include "control_protocol.h"
#include "energy_sampler.h"

namespace vmpower {

namespace {

namespace key = protocol::key;

using json = nlohmann::json;

json vmJson(const EnergySampler& s, const std::string& uuid, const VmEnergy& e) {
    json out = {{key::kName, e.name},
                {key::kUuid, uuid},
                {key::kEnergyUj, e.energy_uj},
                {key::kIdleUj, e.idle_uj},
                {key::kPowerW, e.power_w},
                {key::kWatchedS, e.watched_s},
                {key::kGap, e.gap},
                {key::kPackageShare, e.package_share}};
    out[key::kVcpuUj] = e.vcpu_uj;
    if (auto p = s.vmProblems().find(uuid); p != s.vmProblems().end())
        out[key::kProblem] = p->second;
    return out;
}

std::string unavailableText(const EnergySampler* s) {
    return s == nullptr ? "energy accounting is not part of this agent" : s->unavailableReason();
}

}  // namespace

json energyJson(const EnergySampler* s) {
    if (s == nullptr || !s->available()) {
        return {{key::kOk, true}, {key::kAvailable, false}, {key::kReason, unavailableText(s)}};
    }
    const EnergyAccounting& a = *s->accounting();
    json packages = json::array();
    for (std::size_t i = 0; i < a.packages().size(); ++i) {
        const auto last = static_cast<double>(a.lastPackageDeltaUj()[i]);
        packages.push_back(
            {{key::kName, a.packages()[i].name},
             {key::kCpus, a.packages()[i].cpus.toString()},
             {key::kEnergyUj, a.packageEnergyUj()[i]},
             {key::kHostUj, a.hostEnergyUj()[i]},
             {key::kVmsUj, a.vmsEnergyUj()[i]},
             {key::kIdleUj, a.idleEnergyUj()[i]},
             {key::kPowerW, a.lastIntervalS() > 0 ? last / 1e6 / a.lastIntervalS() : 0}});
    }
    json vms = json::array();
    for (const auto& [uuid, e] : a.vms()) vms.push_back(vmJson(*s, uuid, e));
    return {{key::kOk, true},
            {key::kAvailable, true},
            {key::kIntervalMs, s->settings().interval.count()},
            {key::kSamples, s->samples()},
            {key::kIdle, std::string(energyIdleName(a.idle()))},
            {key::kPackages, packages},
            {key::kVms, vms}};
}

void addVmEnergy(json& vm, const EnergySampler* s, std::string_view uuid) {
    vm[key::kEnergyUj] = nullptr;
    vm[key::kPowerW] = nullptr;
    if (s == nullptr || !s->available()) {
        vm[key::kEnergy] = "unavailable: " + unavailableText(s);
        return;
    }
    const VmEnergy* e = s->accounting()->vm(uuid);
    if (e == nullptr) {
        vm[key::kEnergy] = "not sampled yet";
        return;
    }
    vm[key::kEnergyUj] = e->energy_uj;
    vm[key::kPowerW] = e->power_w;
    vm[key::kEnergy] = vmJson(*s, std::string(uuid), *e);
    vm[key::kEnergy][key::kIdle] = std::string(energyIdleName(s->accounting()->idle()));
}

}  // namespace vmpower

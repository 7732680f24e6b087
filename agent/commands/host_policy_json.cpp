#include "host_policy_json.h"

#include <stdexcept>
#include <string>

namespace vmpower {

namespace {

using json = nlohmann::json;

std::uint64_t number(const json& v, const std::string& key, std::uint64_t max) {
    const bool ok = (v.is_number_unsigned() && v.get<std::uint64_t>() <= max) ||
                    (v.is_number_integer() && v.get<std::int64_t>() >= 0 &&
                     static_cast<std::uint64_t>(v.get<std::int64_t>()) <= max);
    if (!ok)
        throw std::invalid_argument("'" + key + "' must be a number from 0 to " +
                                    std::to_string(max));
    return v.is_number_unsigned() ? v.get<std::uint64_t>()
                                  : static_cast<std::uint64_t>(v.get<std::int64_t>());
}

const json& list(const json& req, const std::string& key) {
    static const json kEmpty = json::array();
    auto it = req.find(key);
    if (it == req.end()) return kEmpty;
    if (!it->is_array() || it->size() > 64)
        throw std::invalid_argument("'" + key + "' must be a list (at most 64 items)");
    return *it;
}

HourSet hours(const json& req, const std::string& key) {
    HourSet set;
    for (const auto& h : list(req, key)) set.set(number(h, key, 23));
    return set;
}

template <typename Enum, std::size_t N>
Enum word(const json& req, const std::string& key, const NameTable<Enum, N>& names, Enum dflt) {
    auto it = req.find(key);
    if (it == req.end()) return dflt;
    if (it->is_string()) {
        if (auto v = valueIn(names, it->get<std::string>())) return *v;
    }
    throw std::invalid_argument("'" + key + "' must be one of " + joinedNames(names, ", "));
}

json hourList(const HourSet& set) {
    json out = json::array();
    for (std::size_t h = 0; h < set.size(); ++h) {
        if (set.test(h)) out.push_back(h);
    }
    return out;
}

}  // namespace

HostPolicy hostPolicyFromJson(const json& req) {
    HostPolicy p;
    if (!req.contains("type")) throw std::invalid_argument("'type' is required");
    p.type = word(req, "type", kHostPolicyTypeNames, HostPolicyType::Workload);
    if (!req.contains("vcpus")) throw std::invalid_argument("'vcpus' is required");
    for (const auto& v : list(req, "vcpus")) {
        const auto vcpu = static_cast<unsigned>(number(v, "vcpus", 255));
        for (unsigned seen : p.vcpus) {
            if (seen == vcpu)
                throw std::invalid_argument("'vcpus' names vCPU " + std::to_string(vcpu) +
                                            " twice");
        }
        p.vcpus.push_back(vcpu);
    }
    p.workload = word(req, "workload", kWorkloadNames, Workload::Low);
    p.busy_hours = hours(req, "busy_hours");
    p.quiet_hours = hours(req, "quiet_hours");
    p.traffic_hours = hours(req, "traffic_hours");
    auto pps = [&](const char* key) -> std::uint32_t {
        auto it = req.find(key);
        return it == req.end() ? 0 : static_cast<std::uint32_t>(number(*it, key, UINT32_MAX));
    };
    p.traffic = {pps("min_pps"), pps("middle_pps"), pps("max_pps")};
    if (p.traffic.middle_pps > p.traffic.max_pps)
        throw std::invalid_argument("'middle_pps' is above 'max_pps'");
    for (const auto& m : list(req, "macs")) {
        auto mac = m.is_string() ? parseMac(m.get<std::string>()) : std::nullopt;
        if (!mac) throw std::invalid_argument("'macs' holds " + m.dump() + ", not a MAC address");
        p.macs.push_back(*mac);
    }
    return p;
}

json hostPolicyJson(const HostPolicyView& view) {
    const HostPolicy& p = view.policy;
    json macs = json::array();
    for (std::uint64_t m : p.macs) macs.push_back(macText(m));
    json out = {{"type", std::string(nameIn(kHostPolicyTypeNames, p.type))},
                {"vcpus", p.vcpus},
                {"set_by", originName(view.origin)},
                {"level", view.level ? json(std::string(nameIn(kPolicyLevelNames, *view.level)))
                                     : json(nullptr)},
                {"decision", view.decision},
                {"refusal", view.refusal}};
    switch (p.type) {
        case HostPolicyType::Workload:
            out["workload"] = std::string(nameIn(kWorkloadNames, p.workload));
            break;
        case HostPolicyType::Time:
            out["busy_hours"] = hourList(p.busy_hours);
            out["quiet_hours"] = hourList(p.quiet_hours);
            out["traffic_hours"] = hourList(p.traffic_hours);
            [[fallthrough]];
        case HostPolicyType::Traffic:
            out["min_pps"] = p.traffic.min_pps;
            out["middle_pps"] = p.traffic.middle_pps;
            out["max_pps"] = p.traffic.max_pps;
            out["macs"] = macs;
            break;
        case HostPolicyType::BranchRatio:
            break;
    }
    return out;
}

}  // namespace vmpower

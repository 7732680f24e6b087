#include "host_policy_json.h"

#include <stdexcept>
#include <string>

namespace vmpower {

namespace {

using json = nlohmann::json;

// A JSON value as its field's text (common/host_policy.h): a list's items
// joined by commas, a number in decimal, a string as it is.
std::string fieldText(const std::string& key, const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
    if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
    if (v.is_array() && v.size() <= 64) {
        std::string out;
        for (const auto& item : v) {
            if (item.is_array() || item.is_object() || item.is_null())
                throw std::invalid_argument("'" + key + "' holds " + item.dump() +
                                            ", not a number or a word");
            out += (out.empty() ? "" : ",") + fieldText(key, item);
        }
        return out;
    }
    throw std::invalid_argument("'" + key + "' must be a word, a number or a list (at most 64 items)");
}

json numbers(const std::vector<unsigned>& v) {
    json out = json::array();
    for (unsigned x : v) out.push_back(x);
    return out;
}

}  // namespace

HostPolicy hostPolicyFromJson(const json& req) {
    HostPolicyFields fields;
    for (const auto& [key, value] : req.items()) {
        if (key == "cmd" || key == "name") continue;  // the command's own
        fields[key] = fieldText(key, value);
    }
    return hostPolicyFromFields(fields);
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
            out["busy_hours"] = numbers(hourList(p.busy_hours));
            out["quiet_hours"] = numbers(hourList(p.quiet_hours));
            out["traffic_hours"] = numbers(hourList(p.traffic_hours));
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

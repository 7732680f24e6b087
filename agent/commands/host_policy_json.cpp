#include "host_policy_json.h"

#include <stdexcept>
#include <string>

#include "control_protocol.h"

namespace vmpower {

namespace {

namespace key = protocol::key;

using json = nlohmann::json;

// A JSON value as its field's text (common/host_policy.h): a list's items
// joined by commas, a number in decimal, a string as it is.
std::string fieldText(const std::string& field, const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
    if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
    if (v.is_array() && v.size() <= 64) {
        std::string out;
        for (const auto& item : v) {
            if (item.is_array() || item.is_object() || item.is_null())
                throw std::invalid_argument("'" + field + "' holds " + item.dump() +
                                            ", not a number or a word");
            out += (out.empty() ? "" : ",") + fieldText(field, item);
        }
        return out;
    }
    throw std::invalid_argument("'" + field +
                                "' must be a word, a number or a list (at most 64 items)");
}

json numbers(const std::vector<unsigned>& v) {
    json out = json::array();
    for (unsigned x : v) out.push_back(x);
    return out;
}

json samplingJson(const TrafficSamplingView& s) {
    return {{key::kIntervalMs, s.interval.count()},
            {key::kLastSampleMs, s.last_duration ? json(s.last_duration->count()) : json(nullptr)},
            {key::kSamples, s.samples},
            {key::kFailures, s.failures},
            {key::kLastError, s.last_error},
            {key::kInFlight, s.in_flight}};
}

}  // namespace

HostPolicy hostPolicyFromJson(const json& req) {
    HostPolicyFields fields;
    for (const auto& [field, value] : req.items()) {
        if (field == key::kCmd || field == key::kName) continue;  // the command's own
        fields[field] = fieldText(field, value);
    }
    return hostPolicyFromFields(fields);
}

json hostPolicyJson(const HostPolicyView& view) {
    const HostPolicy& p = view.policy;
    json macs = json::array();
    for (std::uint64_t m : p.macs) macs.push_back(macText(m));
    json out = {{key::kType, std::string(nameIn(kHostPolicyTypeNames, p.type))},
                {key::kVcpus, p.vcpus},
                {key::kSetBy, originName(view.origin)},
                {key::kLevel, view.level ? json(std::string(nameIn(kPolicyLevelNames, *view.level)))
                                         : json(nullptr)},
                {key::kDecision, view.decision},
                {key::kRefusal, view.refusal}};
    if (view.traffic) out[key::kTrafficSampling] = samplingJson(*view.traffic);
    switch (p.type) {
        case HostPolicyType::Workload:
            out[key::kWorkload] = std::string(nameIn(kWorkloadNames, p.workload));
            break;
        case HostPolicyType::Time:
            out[key::kBusyHours] = numbers(hourList(p.busy_hours));
            out[key::kQuietHours] = numbers(hourList(p.quiet_hours));
            out[key::kTrafficHours] = numbers(hourList(p.traffic_hours));
            [[fallthrough]];
        case HostPolicyType::Traffic:
            out[key::kMinPps] = p.traffic.min_pps;
            out[key::kMiddlePps] = p.traffic.middle_pps;
            out[key::kMaxPps] = p.traffic.max_pps;
            out[key::kMacs] = macs;
            break;
        case HostPolicyType::BranchRatio:
            break;
    }
    return out;
}

}  // namespace vmpower

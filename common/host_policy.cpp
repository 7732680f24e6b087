#include "host_policy.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "cpu_set.h"

namespace vmpower {

std::string macText(std::uint64_t mac) {
    std::string out;
    for (unsigned octet = 0; octet < 6; ++octet) {
        char buf[4];
        std::snprintf(buf, sizeof buf, octet == 0 ? "%02x" : ":%02x",
                      static_cast<unsigned>((mac >> (8 * octet)) & 0xff));
        out += buf;
    }
    return out;
}

std::optional<std::uint64_t> parseMac(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    std::uint64_t mac = 0;
    for (std::size_t octet = 0; octet < 6; ++octet) {
        const std::size_t at = octet * 3;
        if (octet > 0 && text[at - 1] != ':') return std::nullopt;
        unsigned value = 0;
        for (std::size_t i = at; i < at + 2; ++i) {
            const char c = text[i];
            unsigned digit = 0;
            if (c >= '0' && c <= '9') {
                digit = static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                digit = static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                digit = static_cast<unsigned>(c - 'A' + 10);
            } else {
                return std::nullopt;
            }
            value = value * 16 + digit;
        }
        mac |= std::uint64_t{value} << (8 * octet);
    }
    return mac;
}

}  // namespace vmpower

namespace vmpower {

namespace {

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> commaItems(std::string_view text) {
    std::vector<std::string_view> out;
    for (std::size_t from = 0; from <= text.size();) {
        const std::size_t comma = std::min(text.find(',', from), text.size());
        out.push_back(trimmed(text.substr(from, comma - from)));
        from = comma + 1;
    }
    return out;
}

std::optional<std::uint64_t> decimal(std::string_view s) {
    if (s.empty() || s.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    return v;
}

// Outside text in an error: short and printable, or not shown.
std::string shown(std::string_view text) {
    const bool plain = text.size() <= 32 && std::all_of(text.begin(), text.end(), [](char c) {
                           return c >= ' ' && c <= '~' && c != '"' && c != '\'' && c != '\\';
                       });
    return plain ? "\"" + std::string(text) + "\"" : std::string("a value");
}

std::invalid_argument bad(std::string_view key, const std::string& why) {
    return std::invalid_argument("'" + std::string(key) + "' " + why);
}

std::uint64_t number(std::string_view key, std::string_view text, std::uint64_t max) {
    auto v = decimal(trimmed(text));
    if (!v || *v > max) throw bad(key, "must be a number from 0 to " + std::to_string(max));
    return *v;
}

// "0-2,5": each index at most once, none above max.
std::vector<unsigned> indexList(std::string_view key, std::string_view text, unsigned max,
                                const char* what) {
    std::vector<unsigned> out;
    if (trimmed(text).empty()) return out;
    for (std::string_view item : commaItems(text)) {
        const std::size_t dash = item.find('-');
        const auto first = number(key, item.substr(0, dash), max);
        const auto last = dash == std::string_view::npos ? first
                                                         : number(key, item.substr(dash + 1), max);
        if (last < first) throw bad(key, "has the range " + shown(item) + " backwards");
        for (auto i = first; i <= last; ++i) {
            if (std::find(out.begin(), out.end(), i) != out.end())
                throw bad(key, "names " + std::string(what) + " " + std::to_string(i) + " twice");
            out.push_back(static_cast<unsigned>(i));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

HourSet hours(const HostPolicyFields& f, std::string_view key) {
    HourSet set;
    if (auto it = f.find(key); it != f.end()) {
        for (unsigned h : indexList(key, it->second, 23, "hour")) set.set(h);
    }
    return set;
}

template <typename Enum, std::size_t N>
Enum word(const HostPolicyFields& f, std::string_view key, const NameTable<Enum, N>& names,
          Enum dflt) {
    auto it = f.find(key);
    if (it == f.end()) return dflt;
    if (auto v = valueIn(names, trimmed(it->second))) return *v;
    throw bad(key, "must be one of " + joinedNames(names, ", "));
}

}  // namespace

std::string indexListText(const std::vector<unsigned>& sorted) {
    CpuSet set;  // the same canonical list form as a cpulist
    for (unsigned i : sorted) set.add(i);
    return set.toString();
}

std::vector<unsigned> hourList(const HourSet& set) {
    std::vector<unsigned> out;
    for (unsigned h = 0; h < set.size(); ++h) {
        if (set.test(h)) out.push_back(h);
    }
    return out;
}

HostPolicy hostPolicyFromFields(const HostPolicyFields& f) {
    for (const auto& [key, value] : f) {
        if (std::find(kHostPolicyFieldNames.begin(), kHostPolicyFieldNames.end(), key) ==
            kHostPolicyFieldNames.end()) {
            std::string known;
            for (std::string_view k : kHostPolicyFieldNames)
                known += (known.empty() ? "" : ", ") + std::string(k);
            throw std::invalid_argument(shown(key) + " is not a policy field (known: " + known +
                                        ")");
        }
    }
    HostPolicy p;
    if (!f.contains("type")) throw bad("type", "is required");
    p.type = word(f, "type", kHostPolicyTypeNames, HostPolicyType::Workload);
    auto vcpus = f.find("vcpus");
    if (vcpus == f.end()) throw bad("vcpus", "is required");
    p.vcpus = indexList("vcpus", vcpus->second, kMaxPolicyVcpu, "vCPU");
    if (p.vcpus.empty()) throw bad("vcpus", "names no vCPU");
    p.workload = word(f, "workload", kWorkloadNames, Workload::Low);
    p.busy_hours = hours(f, "busy_hours");
    p.quiet_hours = hours(f, "quiet_hours");
    p.traffic_hours = hours(f, "traffic_hours");
    auto pps = [&](std::string_view key) -> std::uint32_t {
        auto it = f.find(key);
        return it == f.end() ? 0 : static_cast<std::uint32_t>(number(key, it->second, UINT32_MAX));
    };
    p.traffic = {pps("min_pps"), pps("middle_pps"), pps("max_pps")};
    if (p.traffic.middle_pps > p.traffic.max_pps) throw bad("middle_pps", "is above 'max_pps'");
    if (auto macs = f.find("macs"); macs != f.end() && !trimmed(macs->second).empty()) {
        for (std::string_view m : commaItems(macs->second)) {
            auto mac = parseMac(m);
            if (!mac) throw bad("macs", "holds " + shown(m) + ", not a MAC address");
            if (std::find(p.macs.begin(), p.macs.end(), *mac) == p.macs.end())
                p.macs.push_back(*mac);
        }
    }
    // What the type does not use is left at its default, so a policy read
    // from fields is equal to the one read from its written fields again.
    if (p.type != HostPolicyType::Workload) p.workload = Workload::Low;
    if (p.type != HostPolicyType::Time) p.busy_hours = p.quiet_hours = p.traffic_hours = {};
    if (p.type != HostPolicyType::Traffic &&
        !(p.type == HostPolicyType::Time && p.traffic_hours.any())) {
        p.traffic = {};
        p.macs.clear();
    }
    return p;
}

HostPolicyFields hostPolicyFields(const HostPolicy& p) {
    HostPolicyFields f;
    f["type"] = std::string(nameIn(kHostPolicyTypeNames, p.type));
    std::vector<unsigned> vcpus = p.vcpus;
    std::sort(vcpus.begin(), vcpus.end());
    f["vcpus"] = indexListText(vcpus);
    auto hourField = [&](const char* key, const HourSet& set) {
        if (set.any()) f[key] = indexListText(hourList(set));
    };
    const bool traffic = p.type == HostPolicyType::Traffic ||
                         (p.type == HostPolicyType::Time && p.traffic_hours.any());
    switch (p.type) {
        case HostPolicyType::Workload:
            f["workload"] = std::string(nameIn(kWorkloadNames, p.workload));
            break;
        case HostPolicyType::Time:
            hourField("busy_hours", p.busy_hours);
            hourField("quiet_hours", p.quiet_hours);
            hourField("traffic_hours", p.traffic_hours);
            break;
        case HostPolicyType::Traffic:
        case HostPolicyType::BranchRatio:
            break;
    }
    if (traffic) {
        f["min_pps"] = std::to_string(p.traffic.min_pps);
        f["middle_pps"] = std::to_string(p.traffic.middle_pps);
        f["max_pps"] = std::to_string(p.traffic.max_pps);
        std::string macs;
        for (std::uint64_t m : p.macs) macs += (macs.empty() ? "" : ",") + macText(m);
        if (!macs.empty()) f["macs"] = macs;
    }
    return f;
}

}  // namespace vmpower

#include "libvirt_traffic.h"

#include <set>
#include <stdexcept>

#include "domain_xml.h"
#include "host_policy.h"
#include "libvirt_handles.h"

namespace vmpower {

namespace {

struct StatsRecords {
    virDomainStatsRecordPtr* list = nullptr;
    ~StatsRecords() {
        if (list != nullptr) virDomainStatsRecordListFree(list);
    }
};

// net.<i>.name and net.<i>.rx.pkts out of one domain's typed parameters.
std::map<unsigned, InterfaceCounters> interfacesOf(const virDomainStatsRecord& rec) {
    std::map<unsigned, InterfaceCounters> by_index;
    for (int i = 0; i < rec.nparams; ++i) {
        const virTypedParameter& p = rec.params[i];
        const std::string_view field = p.field;
        if (!field.starts_with("net.")) continue;
        const std::size_t dot = field.find('.', 4);
        if (dot == std::string_view::npos) continue;
        unsigned index = 0;
        bool numeric = dot > 4;
        for (char c : field.substr(4, dot - 4)) {
            numeric = numeric && c >= '0' && c <= '9';
            if (numeric) index = index * 10 + static_cast<unsigned>(c - '0');
        }
        if (!numeric || index >= DomainDescription::kMaxInterfaces) continue;
        const std::string_view key = field.substr(dot + 1);
        if (key == "name" && p.type == VIR_TYPED_PARAM_STRING && p.value.s != nullptr) {
            by_index[index].device = p.value.s;
        } else if (key == "rx.pkts" && p.type == VIR_TYPED_PARAM_ULLONG) {
            by_index[index].rx_packets = p.value.ul;
        }
    }
    return by_index;
}

}  // namespace

TrafficSample TrafficReader::read(virConnectPtr conn, const std::vector<std::string>& uuids) {
    const std::set<std::string, std::less<>> wanted(uuids.begin(), uuids.end());
    StatsRecords records;
    const int n =
        virConnectGetAllDomainStats(conn, VIR_DOMAIN_STATS_INTERFACE, &records.list,
                                    VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE);
    if (n < 0) throw std::runtime_error("virConnectGetAllDomainStats: " + lastLibvirtError());
    TrafficSample out;
    for (int r = 0; r < n; ++r) {
        const virDomainStatsRecord& rec = *records.list[r];
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (virDomainGetUUIDString(rec.dom, uuid) != 0 || !wanted.contains(uuid)) continue;
        auto& macs = macs_[uuid];
        std::vector<InterfaceCounters>& nics = out[uuid];
        bool unknown_device = false;
        for (auto& [index, c] : interfacesOf(rec)) {
            if (c.device.empty()) continue;  // no host device (user-mode networking)
            unknown_device = unknown_device || !macs.contains(c.device);
            nics.push_back(std::move(c));
        }
        if (unknown_device) {
            // The XML says which MAC each host device carries.
            macs.clear();
            LibvirtString xml(virDomainGetXMLDesc(rec.dom, 0));
            if (xml) {
                try {
                    for (const NetInterface& nic : parseDomainXml(xml.get()).interfaces) {
                        if (auto mac = parseMac(nic.mac)) macs[nic.target_dev] = *mac;
                    }
                } catch (const DomainXmlError&) {
                    // MACs stay unknown: a policy that lists MACs counts nothing.
                }
            }
        }
        for (InterfaceCounters& c : nics) {
            auto m = macs.find(c.device);
            if (m != macs.end()) c.mac = m->second;
        }
    }
    // Domains no longer asked about are forgotten.
    std::erase_if(macs_, [&](const auto& entry) { return !wanted.contains(entry.first); });
    return out;
}

}  // namespace vmpower

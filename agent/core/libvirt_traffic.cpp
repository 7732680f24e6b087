#include "libvirt_traffic.h"

#include <stdexcept>

#include "domain_xml.h"
#include "host_policy.h"

namespace vmpower {

namespace {

struct StatsRecords {
    virDomainStatsRecordPtr* list = nullptr;
    ~StatsRecords() {
        if (list != nullptr) virDomainStatsRecordListFree(list);
    }
};

}  // namespace

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

std::vector<virDomainPtr> TrafficReader::handles(virConnectPtr conn,
                                                 const std::vector<std::string>& uuids) {
    if (conn != conn_) {
        domains_.clear();  // a handle is its connection's
        conn_ = conn;
    }
    const std::set<std::string_view> wanted(uuids.begin(), uuids.end());
    std::erase_if(domains_, [&](const auto& d) { return !wanted.contains(d.first); });
    std::vector<virDomainPtr> out;
    for (std::string_view uuid : wanted) {
        auto it = domains_.find(uuid);
        if (it == domains_.end()) {
            const std::string text(uuid);
            DomainHandle dom(virDomainLookupByUUIDString(conn, text.c_str()));
            if (!dom) {
                if (lastLibvirtErrorCode() == VIR_ERR_NO_DOMAIN) continue;  // not defined now
                throw std::runtime_error("virDomainLookupByUUIDString: " + lastLibvirtError());
            }
            it = domains_.emplace(text, Watched{.dom = std::move(dom)}).first;
        }
        out.push_back(it->second.dom.get());
    }
    return out;
}

// The XML says which MAC each host device carries. Read once per run of
// the domain, and again only when the stats name a device it did not list
// then (a hot-plugged NIC): a device with no MAC in the XML (user-mode
// networking, a VF's netdev) is not read for at every sample.
void TrafficReader::resolveMacs(Watched& w, std::vector<InterfaceCounters>& nics) {
    bool unknown = !w.read_xml;
    for (const InterfaceCounters& c : nics)
        unknown = unknown || (!w.macs.contains(c.device) && !w.unresolved.contains(c.device));
    if (unknown) {
        w.macs.clear();
        w.read_xml = true;
        LibvirtString xml(virDomainGetXMLDesc(w.dom.get(), 0));
        if (xml) {
            try {
                for (const NetInterface& nic : parseDomainXml(xml.get()).interfaces) {
                    if (auto mac = parseMac(nic.mac)) w.macs[nic.target_dev] = *mac;
                }
            } catch (const DomainXmlError&) {
                // MACs stay unknown: a policy that lists MACs counts nothing.
            }
        }
        // Unreadable XML (the domain just stopped, ...): tried again next time.
        w.read_xml = xml != nullptr;
        w.unresolved.clear();
        for (const InterfaceCounters& c : nics)
            if (!w.macs.contains(c.device)) w.unresolved.insert(c.device);
    }
    for (InterfaceCounters& c : nics) {
        auto m = w.macs.find(c.device);
        if (m != w.macs.end()) c.mac = m->second;
    }
}

TrafficSample TrafficReader::read(virConnectPtr conn, const std::vector<std::string>& uuids) {
    if (conn == nullptr) throw std::runtime_error("not connected to libvirt");
    std::vector<virDomainPtr> doms = handles(conn, uuids);
    TrafficSample out;
    if (doms.empty()) return out;
    doms.push_back(nullptr);  // the list's end
    StatsRecords records;
    const int n = virDomainListGetStats(doms.data(), VIR_DOMAIN_STATS_INTERFACE, &records.list, 0);
    if (n < 0) throw std::runtime_error("virDomainListGetStats: " + lastLibvirtError());
    for (int r = 0; r < n; ++r) {
        const virDomainStatsRecord& rec = *records.list[r];
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (virDomainGetUUIDString(rec.dom, uuid) != 0) continue;
        auto it = domains_.find(std::string_view(uuid));
        if (it == domains_.end()) continue;
        std::vector<InterfaceCounters>& nics = out[it->first];
        for (auto& [index, c] : interfacesOf(rec)) {
            if (c.device.empty()) continue;  // no host device (user-mode networking)
            nics.push_back(std::move(c));
        }
        if (!nics.empty()) resolveMacs(it->second, nics);
    }
    return out;
}

void TrafficReader::forget(std::string_view uuid) {
    if (auto it = domains_.find(uuid); it != domains_.end()) domains_.erase(it);
}

void TrafficReader::domainChanged(std::string_view uuid) {
    if (auto it = domains_.find(uuid); it != domains_.end()) it->second.read_xml = false;
}

}  // namespace vmpower

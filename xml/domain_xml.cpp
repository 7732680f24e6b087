#include "domain_xml.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <pugixml.hpp>
#include <set>

#include "outside_text.h"
#include "power_channel.h"

namespace vmpower {

namespace {

std::string_view attr(const pugi::xml_node& node, const char* name) {
    return node.attribute(name).value();
}

std::string requiredText(const pugi::xml_node& domain, const char* element) {
    pugi::xml_node node = domain.child(element);
    if (!node) throw DomainXmlError(std::string("domain XML has no <") + element + "> element");
    std::string text = node.text().get();
    if (trimSpace(text).empty()) {
        throw DomainXmlError(std::string("domain XML has an empty <") + element + "> element");
    }
    return text;
}

// The vCPU id attribute of <vcpupin>/<vcpus><vcpu>, checked against the count.
std::optional<unsigned> vcpuId(std::string_view text, unsigned vcpus_max, const std::string& what,
                               Problems& problems) {
    auto id = parseDecimal(text);
    if (!id) {
        problems.add(what + " has vCPU id " + quoted(text) + ", not a number; ignored");
        return std::nullopt;
    }
    if (*id >= vcpus_max) {
        problems.add(what + " names vCPU " + std::to_string(*id) + " but the domain has " +
                     std::to_string(vcpus_max) + " vCPUs; ignored");
        return std::nullopt;
    }
    return static_cast<unsigned>(*id);
}

std::optional<CpuSet> cpulist(std::string_view text, const std::string& what, Problems& problems) {
    auto set = CpuSet::parse(text);
    if (!set || set->empty()) {
        problems.add(what + " has cpuset " + quoted(text) + ", not a usable cpulist; ignored");
        return std::nullopt;
    }
    return set;
}

void readVcpus(const pugi::xml_node& domain, DomainDescription& d, Problems& problems) {
    d.vcpus_max = 1;  // libvirt's default when <vcpu> is absent
    d.vcpus_current = 1;
    pugi::xml_node vcpu = domain.child("vcpu");
    if (vcpu) {
        std::string_view text = vcpu.text().get();
        auto count = parseDecimal(text);
        if (!count || *count == 0) {
            problems.add("<vcpu> count " + quoted(text) + " is not a positive number; assuming 1");
        } else if (*count > DomainDescription::kMaxVcpus) {
            problems.add("<vcpu> count " + quoted(text) + " is above " +
                         std::to_string(DomainDescription::kMaxVcpus) + "; using " +
                         std::to_string(DomainDescription::kMaxVcpus));
            d.vcpus_max = DomainDescription::kMaxVcpus;
        } else {
            d.vcpus_max = static_cast<unsigned>(*count);
        }
        d.vcpus_current = d.vcpus_max;
        if (pugi::xml_attribute current = vcpu.attribute("current")) {
            auto n = parseDecimal(current.value());
            if (!n || *n == 0 || *n > d.vcpus_max) {
                problems.add("<vcpu current=" + quoted(current.value()) +
                             "> is not between 1 and " + std::to_string(d.vcpus_max) +
                             "; assuming all vCPUs are online");
            } else {
                d.vcpus_current = static_cast<unsigned>(*n);
            }
        }
        std::string_view placement = attr(vcpu, "placement");
        d.placement_auto = placement == "auto";
        if (!placement.empty() && placement != "auto" && placement != "static") {
            problems.add("<vcpu placement=" + quoted(placement) +
                         "> is unknown; treated as static");
        }
        if (pugi::xml_attribute cpuset = vcpu.attribute("cpuset")) {
            d.vcpu_cpuset = cpulist(cpuset.value(), "<vcpu>", problems);
        }
    }

    // Per-vCPU state: with hot-plug the online vCPUs need not be 0..current-1.
    std::vector<bool> online(d.vcpus_max, false);
    bool have_list = false;
    if (pugi::xml_node vcpus = domain.child("vcpus")) {
        std::vector<bool> seen(d.vcpus_max, false);
        for (pugi::xml_node v : vcpus.children("vcpu")) {
            auto id = vcpuId(attr(v, "id"), d.vcpus_max, "<vcpus><vcpu>", problems);
            if (!id) continue;
            if (seen[*id]) {
                problems.add("<vcpus> lists vCPU " + std::to_string(*id) + " twice; first kept");
                continue;
            }
            seen[*id] = true;
            if (attr(v, "enabled") == "yes") {
                online[*id] = true;
                have_list = true;
            }
        }
        if (!have_list) problems.add("<vcpus> enables no vCPU; using <vcpu current>");
    }
    if (have_list) {
        for (unsigned i = 0; i < d.vcpus_max; ++i) {
            if (online[i]) d.online_vcpus.push_back(i);
        }
        if (d.online_vcpus.size() != d.vcpus_current) {
            problems.add("<vcpus> enables " + std::to_string(d.online_vcpus.size()) +
                         " vCPUs but <vcpu current> says " + std::to_string(d.vcpus_current) +
                         "; using <vcpus>");
            d.vcpus_current = static_cast<unsigned>(d.online_vcpus.size());
        }
    } else {
        for (unsigned i = 0; i < d.vcpus_current; ++i) d.online_vcpus.push_back(i);
    }
}

void readCputune(const pugi::xml_node& domain, DomainDescription& d, Problems& problems) {
    pugi::xml_node cputune = domain.child("cputune");
    for (pugi::xml_node pin : cputune.children("vcpupin")) {
        std::string what = "<vcpupin vcpu=" + quoted(attr(pin, "vcpu")) + ">";
        auto id = vcpuId(attr(pin, "vcpu"), d.vcpus_max, what, problems);
        if (!id) continue;
        auto set = cpulist(attr(pin, "cpuset"), what, problems);
        if (!set) continue;
        if (!d.vcpupin.emplace(*id, std::move(*set)).second) {
            problems.add(what + " appears twice; first kept");
        }
    }
    if (pugi::xml_node pin = cputune.child("emulatorpin")) {
        d.emulatorpin = cpulist(attr(pin, "cpuset"), "<emulatorpin>", problems);
    }
    for (pugi::xml_node pin : cputune.children("iothreadpin")) {
        std::string what = "<iothreadpin iothread=" + quoted(attr(pin, "iothread")) + ">";
        auto id = parseDecimal(attr(pin, "iothread"));
        if (!id || !std::binary_search(d.iothreads.begin(), d.iothreads.end(), *id)) {
            problems.add(what + " names no IOThread of the domain; ignored");
            continue;
        }
        auto set = cpulist(attr(pin, "cpuset"), what, problems);
        if (!set) continue;
        if (!d.iothreadpin.emplace(static_cast<unsigned>(*id), std::move(*set)).second) {
            problems.add(what + " appears twice; first kept");
        }
    }
}

// libvirt's IOThread ids: <iothreadids> lists some, <iothreads>N says how
// many there are; the ones not listed get the lowest free ids from 1.
void readIothreads(const pugi::xml_node& domain, DomainDescription& d, Problems& problems) {
    constexpr unsigned kMax = DomainDescription::kMaxIothreads;
    std::set<unsigned> ids;
    for (pugi::xml_node t : domain.child("iothreadids").children("iothread")) {
        auto id = parseDecimal(attr(t, "id"));
        if (!id || *id == 0 || *id > std::numeric_limits<unsigned>::max()) {
            problems.add("<iothread id=" + quoted(attr(t, "id")) +
                         "> is not an IOThread id; ignored");
            continue;
        }
        if (ids.size() >= kMax) {
            problems.add("more than " + std::to_string(kMax) + " IOThreads; the rest ignored");
            break;
        }
        ids.insert(static_cast<unsigned>(*id));
    }
    if (pugi::xml_node n = domain.child("iothreads")) {
        std::string_view text = n.child_value();
        auto count = parseDecimal(text);
        if (!count) {
            problems.add("<iothreads> count " + quoted(text) + " is not a number; ignored");
        } else {
            if (*count > kMax) {
                problems.add("<iothreads> count " + quoted(text) + " is above " +
                             std::to_string(kMax) + "; using " + std::to_string(kMax));
            }
            const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(*count, kMax));
            for (unsigned next = 1; ids.size() < wanted; ++next) ids.insert(next);
        }
    }
    d.iothreads.assign(ids.begin(), ids.end());
}

// Why a power channel is unusable, quoting what the XML says.
std::string flawText(PowerChannelFlaw flaw, const PowerChannel& pc, std::string_view target_type) {
    switch (flaw) {
        case PowerChannelFlaw::None:
            break;
        case PowerChannelFlaw::TargetNotVirtio:
            return "target type " + quoted(target_type) + ", not 'virtio'";
        case PowerChannelFlaw::NotUnix:
            return "type " + quoted(pc.type) +
                   ", not 'unix': vmpowerd connects only to unix sockets";
        case PowerChannelFlaw::NoPath:
            return "no socket path in <source path>";
        case PowerChannelFlaw::PathNotAbsolute:
            return "socket path " + quoted(pc.source_path) + " is not absolute";
        case PowerChannelFlaw::PathTooLong:
            return "socket path is " + std::to_string(pc.source_path.size()) +
                   " bytes, longer than the " + std::to_string(kMaxSocketPathBytes) +
                   " a unix socket address holds";
        case PowerChannelFlaw::ConnectMode:
            return "source mode='connect' (QEMU as client) is not supported; use mode='bind' "
                   "(vmpower-provision does)";
        case PowerChannelFlaw::UnknownMode:
            return "source mode " + quoted(pc.source_mode) + " is neither 'bind' nor 'connect'";
    }
    return "unusable";
}

// Every <channel> whose virtio name carries our prefix: usable ones go to
// d.channels, the rest become one problem line each.
void readChannels(const pugi::xml_node& domain, DomainDescription& d, Problems& problems) {
    std::map<unsigned, std::string> taken;  // index -> label of the channel holding it
    for (pugi::xml_node ch : domain.child("devices").children("channel")) {
        pugi::xml_node target = ch.child("target");
        std::string_view name = attr(target, "name");
        if (!hasPowerChannelPrefix(name)) continue;  // qemu-ga, spice, ...

        PowerChannel pc;
        pc.target_name = name;
        pc.type = attr(ch, "type");
        pugi::xml_node source = ch.child("source");
        pc.source_path = attr(source, "path");
        pc.source_mode = attr(source, "mode");
        pc.alias = attr(ch.child("alias"), "name");
        pc.target_state = attr(target, "state");

        std::string label = "channel " + quoted(name);
        if (!pc.alias.empty()) label += " (" + quoted(pc.alias) + ")";

        auto index = parsePowerChannelIndex(name.substr(kPowerChannelPrefix.size()));
        if (!index) {
            problems.add(label + ": index is not a number from 0 to " +
                         std::to_string(kMaxPowerChannelIndex) + "; ignored");
            continue;
        }
        pc.index = *index;
        const std::string_view target_type = attr(target, "type");
        const PowerChannelFlaw flaw = powerChannelFlaw({.type = pc.type,
                                                        .target_type = target_type,
                                                        .source_path = pc.source_path,
                                                        .source_mode = pc.source_mode});
        if (flaw != PowerChannelFlaw::None) {
            problems.add(label + ": " + flawText(flaw, pc, target_type) + "; ignored");
            continue;
        }
        auto [it, fresh] = taken.emplace(pc.index, label);
        if (!fresh) {
            problems.add(label + ": index " + std::to_string(pc.index) + " already used by " +
                         it->second + "; ignored");
            continue;
        }
        if (d.channels.size() >= kMaxPowerChannelsPerDomain) {
            problems.add(label + ": more than " + std::to_string(kMaxPowerChannelsPerDomain) +
                         " power channels in one domain (DPDK's limit per VM); ignored");
            continue;
        }
        d.channels.push_back(std::move(pc));
    }
}

void readInterfaces(const pugi::xml_node& domain, DomainDescription& d) {
    for (pugi::xml_node nic : domain.child("devices").children("interface")) {
        NetInterface n{std::string(attr(nic.child("mac"), "address")),
                       std::string(attr(nic.child("target"), "dev"))};
        if (n.mac.empty() || n.target_dev.empty()) continue;
        if (d.interfaces.size() == DomainDescription::kMaxInterfaces) break;
        d.interfaces.push_back(std::move(n));
    }
}

}  // namespace

DomainDescription parseDomainXml(std::string_view xml) {
    pugi::xml_document doc;
    // No DOCTYPE/entity expansion happens in pugixml: nothing external is read.
    pugi::xml_parse_result parsed =
        doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!parsed) {
        throw DomainXmlError(std::string("domain XML is not well-formed: ") + parsed.description() +
                             " at byte " + std::to_string(parsed.offset));
    }
    pugi::xml_node domain = doc.document_element();
    if (std::string_view(domain.name()) != "domain") {
        throw DomainXmlError("domain XML has no <domain> root element (found <" +
                             std::string(domain.name()).substr(0, kMaxQuoted) + ">)");
    }

    DomainDescription d;
    d.name = requiredText(domain, "name");
    d.uuid = requiredText(domain, "uuid");
    Problems problems(d.problems);

    if (pugi::xml_attribute id = domain.attribute("id")) {
        auto n = parseDecimal(id.value());
        if (n && *n <= static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
            d.id = static_cast<int>(*n);
        } else {
            problems.add("<domain id=" + quoted(id.value()) + "> is not a domain id; ignored");
        }
    }
    readVcpus(domain, d, problems);
    readIothreads(domain, d, problems);
    readCputune(domain, d, problems);
    readChannels(domain, d, problems);
    readInterfaces(domain, d);
    problems.finish();
    return d;
}

std::vector<CpuSet> effectiveVcpuPins(const DomainDescription& domain, const CpuSet& host_cpus) {
    std::vector<CpuSet> pins;
    pins.reserve(domain.online_vcpus.size());
    for (unsigned vcpu : domain.online_vcpus) {
        if (auto pin = domain.vcpupin.find(vcpu); pin != domain.vcpupin.end()) {
            pins.push_back(pin->second);
        } else if (domain.vcpu_cpuset) {
            // Under placement='auto' an old libvirt printed numad's advice here.
            pins.push_back(*domain.vcpu_cpuset);
        } else {
            pins.push_back(host_cpus);
        }
    }
    return pins;
}

CpuSet iothreadCpus(const DomainDescription& domain, const CpuSet& host_cpus) {
    CpuSet out;
    for (unsigned id : domain.iothreads) {
        if (auto pin = domain.iothreadpin.find(id); pin != domain.iothreadpin.end()) {
            out |= pin->second;
        } else {
            out |= domain.vcpu_cpuset.value_or(host_cpus);
        }
    }
    return out;
}

}  // namespace vmpower

#include "power_intent.h"

#include <algorithm>
#include <limits>
#include <pugixml.hpp>
#include <set>
#include <stdexcept>

#include "outside_text.h"

namespace vmpower {

namespace {

// The prefix (with its colon) an element in our namespace carries, when the
// element itself declares the namespace, as libvirt writes metadata.
std::optional<std::string> ourPrefix(pugi::xml_node e) {
    for (pugi::xml_attribute a : e.attributes()) {
        std::string_view name = a.name();
        if (std::string_view(a.value()) != kPowerIntentNamespace) continue;
        if (name == "xmlns") return std::string();
        if (name.starts_with("xmlns:")) return std::string(name.substr(6)) + ":";
    }
    return std::nullopt;
}

struct Found {
    pugi::xml_node element;
    std::string prefix;
};

std::vector<Found> intentElements(pugi::xml_node domain) {
    std::vector<Found> out;
    for (pugi::xml_node m : domain.children("metadata")) {
        for (pugi::xml_node e = m.first_child(); e; e = e.next_sibling()) {
            if (e.type() != pugi::node_element) continue;
            auto prefix = ourPrefix(e);
            if (prefix && std::string_view(e.name()) == *prefix + "intent")
                out.push_back({e, *prefix});
        }
    }
    return out;
}

std::optional<bool> onOff(std::string_view text) {
    if (text == "on") return true;
    if (text == "off") return false;
    return std::nullopt;
}

// One <vcpu/>; nullopt (with a problem) when it says nothing usable.
std::optional<VcpuIntent> readVcpu(pugi::xml_node e, Problems& problems) {
    pugi::xml_attribute id_attr = e.attribute("id");
    auto id = parseDecimal(id_attr.value());
    if (!id || *id >= kMaxVcpus) {
        problems.add("power intent: <vcpu id=" + quoted(id_attr.value()) +
                     "> is not a vCPU number below " + std::to_string(kMaxVcpus) + "; ignored");
        return std::nullopt;
    }
    const std::string what = "power intent: vCPU " + std::to_string(*id);
    VcpuIntent v;
    v.vcpu = static_cast<unsigned>(*id);
    std::optional<std::uint64_t> from_top, of;
    for (pugi::xml_attribute a : e.attributes()) {
        std::string_view name = a.name(), value = a.value();
        if (name == "id") continue;
        if (name == "level") {
            auto kind = valueIn(kLevelKindNames, value);
            if (!kind) {
                problems.add(what + ": level " + quoted(value) + " is not " +
                             joinedNames(kLevelKindNames, "|") + "; ignored");
                return std::nullopt;
            }
            v.level = LevelPosition{*kind, 0, 0};
        } else if (name == "from-top") {
            from_top = parseDecimal(value);
            if (!from_top) from_top = std::numeric_limits<std::uint64_t>::max();
        } else if (name == "of") {
            of = parseDecimal(value);
            if (!of) of = std::numeric_limits<std::uint64_t>::max();
        } else if (name == "khz") {
            auto khz = parseDecimal(value);
            if (khz && *khz <= std::numeric_limits<std::uint32_t>::max()) {
                v.khz = static_cast<std::uint32_t>(*khz);
            } else {
                problems.add(what + ": khz " + quoted(value) + " is not a frequency; left out");
            }
        } else if (name == "turbo") {
            v.turbo = onOff(value);
            if (!v.turbo) {
                problems.add(what + ": turbo " + quoted(value) + " is not on|off; ignored");
                return std::nullopt;
            }
        } else {
            problems.add(what + ": unknown attribute " + quoted(name) + " skipped");
        }
    }
    if (v.level && v.level->kind == LevelPosition::Kind::Step) {
        if (from_top && of && *from_top <= kMaxLevelSteps && *of <= kMaxLevelSteps) {
            v.level->from_top = static_cast<unsigned>(*from_top);
            v.level->of = static_cast<unsigned>(*of);
        }
        if (!plausible(*v.level)) {
            problems.add(what + ": level step needs 1 <= from-top <= of-2 and of <= " +
                         std::to_string(kMaxLevelSteps) + " (from-top " +
                         quoted(e.attribute("from-top").value()) + ", of " +
                         quoted(e.attribute("of").value()) + "); ignored");
            return std::nullopt;
        }
    }
    if (!v.level && !v.turbo) {
        problems.add(what + ": neither a level nor a turbo wish; ignored");
        return std::nullopt;
    }
    return v;
}

// <host-policy set-by=".." FIELD=".." .../>; nullopt (with a problem) when
// unusable. Its vCPUs are checked against the domain by whoever applies it.
std::optional<IntentHostPolicy> readHostPolicy(pugi::xml_node element, Problems& problems) {
    IntentHostPolicy out;
    HostPolicyFields fields;
    std::optional<bool> by_guest;
    for (pugi::xml_attribute a : element.attributes()) {
        std::string_view name = a.name(), value = a.value();
        if (name == "set-by") {
            if (value == "guest") by_guest = true;
            if (value == "operator") by_guest = false;
            if (!by_guest) {
                problems.add("power intent: host policy set-by " + quoted(value) +
                             " is not guest|operator; ignored");
                return std::nullopt;
            }
        } else if (std::find(kHostPolicyFieldNames.begin(), kHostPolicyFieldNames.end(), name) ==
                   kHostPolicyFieldNames.end()) {
            problems.add("power intent: host policy: unknown attribute " + quoted(name) +
                         " skipped");
        } else {
            fields.emplace(std::string(name), std::string(value));
        }
    }
    if (!by_guest) {
        problems.add("power intent: host policy without set-by; ignored");
        return std::nullopt;
    }
    out.set_by_guest = *by_guest;
    try {
        out.policy = hostPolicyFromFields(fields);
    } catch (const std::invalid_argument& e) {
        // Its messages show no outside text but short printable values.
        problems.add("power intent: host policy: " + std::string(e.what()) + "; ignored");
        return std::nullopt;
    }
    for (unsigned v : out.policy.vcpus) {
        if (v >= kMaxVcpus) {
            problems.add("power intent: host policy names vCPU " + std::to_string(v) +
                         " (at most " + std::to_string(kMaxVcpus) + "); ignored");
            return std::nullopt;
        }
    }
    return out;
}

PowerIntent readIntent(const Found& found, Problems& problems) {
    PowerIntent intent;
    std::set<unsigned> seen;
    const std::string vcpu_name = found.prefix + "vcpu";
    const std::string policy_name = found.prefix + "host-policy";
    for (pugi::xml_node c = found.element.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        if (c.name() == vcpu_name) {
            auto v = readVcpu(c, problems);
            if (!v) continue;
            if (!seen.insert(v->vcpu).second) {
                problems.add("power intent: vCPU " + std::to_string(v->vcpu) +
                             " appears twice; the second ignored");
                continue;
            }
            intent.vcpus.push_back(*v);
        } else if (c.name() == policy_name) {
            if (intent.host_policy) {
                problems.add("power intent: a second host policy ignored");
                continue;
            }
            intent.host_policy = readHostPolicy(c, problems);
        } else {
            problems.add("power intent: unknown element " + quoted(c.name()) + " skipped");
        }
    }
    std::sort(intent.vcpus.begin(), intent.vcpus.end(),
              [](const VcpuIntent& a, const VcpuIntent& b) { return a.vcpu < b.vcpu; });
    return intent;
}

}  // namespace

bool mentionsPowerIntent(std::string_view domain_xml) {
    return domain_xml.find(kPowerIntentNamespace) != std::string_view::npos;
}

PowerIntentReading readPowerIntent(std::string_view domain_xml) {
    PowerIntentReading r;
    if (!mentionsPowerIntent(domain_xml)) return r;
    Problems problems(r.problems);
    pugi::xml_document doc;
    pugi::xml_parse_result parsed = doc.load_buffer(domain_xml.data(), domain_xml.size(),
                                                    pugi::parse_default, pugi::encoding_utf8);
    pugi::xml_node domain = doc.document_element();
    if (!parsed || std::string_view(domain.name()) != "domain") {
        problems.add("power intent: the domain XML is not readable; ignored");
        return r;
    }
    std::vector<Found> found = intentElements(domain);
    if (found.size() > 1) {
        problems.add("power intent: " + std::to_string(found.size()) +
                     " intent elements; none trusted");
    } else if (found.size() == 1) {
        std::size_t entries = 0;
        for (pugi::xml_node c = found[0].element.first_child(); c; c = c.next_sibling()) {
            if (c.type() == pugi::node_element) ++entries;
        }
        // More entries than a domain can have vCPUs: not written by us.
        if (entries > kMaxVcpus + 1) {
            problems.add("power intent: " + std::to_string(entries) + " entries (at most " +
                         std::to_string(kMaxVcpus) + " vCPUs); ignored");
        } else {
            r.intent = readIntent(found[0], problems);
        }
    }
    problems.finish();
    return r;
}

std::string powerIntentElement(const PowerIntent& intent) {
    if (intent.empty()) return {};
    std::string out = "<intent>\n";
    for (const VcpuIntent& v : intent.vcpus) {
        out += "  <vcpu id=\"" + std::to_string(v.vcpu) + "\"";
        if (v.level) {
            out += " level=\"" + std::string(nameIn(kLevelKindNames, v.level->kind)) + "\"";
            if (v.level->kind == LevelPosition::Kind::Step) {
                out += " from-top=\"" + std::to_string(v.level->from_top) + "\" of=\"" +
                       std::to_string(v.level->of) + "\"";
            }
        }
        if (v.khz) out += " khz=\"" + std::to_string(*v.khz) + "\"";
        if (v.turbo) out += std::string(" turbo=\"") + (*v.turbo ? "on" : "off") + "\"";
        out += "/>\n";
    }
    // The fields' text is digits, words, commas, dashes and colons: no
    // escaping needed.
    if (intent.host_policy) {
        out += std::string("  <host-policy set-by=\"") +
               (intent.host_policy->set_by_guest ? "guest" : "operator") + "\"";
        for (const auto& [key, value] : hostPolicyFields(intent.host_policy->policy))
            out += " " + key + "=\"" + value + "\"";
        out += "/>\n";
    }
    out += "</intent>\n";
    return out;
}

}  // namespace vmpower

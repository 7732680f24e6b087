#include "vm_rule_parser.h"

#include <array>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#include "glob_pattern.h"
#include "power_action.h"
#include "record_format.h"
#include "uuid.h"

namespace vmpower {

namespace {

std::set<PowerAction> parseCommands(const YamlReader& r, const YAML::Node& n) {
    if (!n.IsSequence())
        r.fail(n, "commands: expected a list (up, down, min, max, enable_turbo, disable_turbo)");
    std::set<PowerAction> out;
    for (const auto& item : n) {
        std::string word = r.string(item, "commands");
        auto action = parsePowerAction(word);
        if (action == PowerAction::Middle) action.reset();  // no guest unit asks for it
        if (action) out.insert(*action);
        if (!action) {
            r.fail(item, "commands: unknown command '" + word +
                             "' (known: up, down, min, max, enable_turbo, disable_turbo)");
        }
    }
    return out;
}

std::set<HostPolicyType> parsePolicyTypes(const YamlReader& r, const YAML::Node& n) {
    const std::string known = joinedNames(kHostPolicyTypeNames, ", ");
    if (!n.IsSequence()) r.fail(n, "policies: expected a list (" + known + ")");
    std::set<HostPolicyType> out;
    for (const auto& item : n) {
        std::string word = r.string(item, "policies");
        auto type = valueIn(kHostPolicyTypeNames, word);
        if (!type) r.fail(item, "policies: unknown policy '" + word + "' (known: " + known + ")");
        out.insert(*type);
    }
    return out;
}

// host_policy: the fields of common/host_policy.h, a list given as a YAML
// list or as the field's text ("9-17,20"). An error points at the field.
HostPolicy parseHostPolicy(const YamlReader& r, const YAML::Node& n) {
    if (!n.IsMap()) {
        r.fail(n,
               "host_policy: expected a mapping such as {type: workload, vcpus: [0, 1], "
               "workload: high}");
    }
    HostPolicyFields fields;
    std::map<std::string, YAML::Mark, std::less<>> marks;
    for (const auto& kv : n) {
        const std::string key = r.string(kv.first, "host_policy");
        const YAML::Node& v = kv.second;
        if (marks.contains(key)) r.fail(kv.first, "host_policy: '" + key + "' given twice");
        marks.emplace(key, v.Mark());
        std::string text;
        if (v.IsSequence()) {
            for (const auto& item : v) text += (text.empty() ? "" : ",") + r.string(item, key);
        } else {
            text = r.string(v, key);
        }
        fields[key] = text;
    }
    try {
        return hostPolicyFromFields(fields);
    } catch (const std::invalid_argument& e) {
        // The message starts with the field's name in quotes.
        const std::string what = e.what();
        const auto end = what.empty() ? std::string::npos : what.find(what[0], 1);
        auto at = end != std::string::npos ? marks.find(what.substr(1, end - 1)) : marks.end();
        r.fail(at == marks.end() ? n.Mark() : at->second, "host_policy: " + what);
    }
}

// One rule while its keys are read, with the marks of the keys checked
// against each other once all are in. Marks, not Nodes: assigning a
// yaml-cpp Node rebinds the tree it came from.
struct RuleReading {
    AccessRule rule;
    YAML::Mark floor_mark = YAML::Mark::null_mark();
    YAML::Mark ceiling_mark = YAML::Mark::null_mark();
    YAML::Mark host_policy_mark = YAML::Mark::null_mark();
};

using KeyHandlers = std::map<std::string, YamlReader::KeyHandler>;

// Which VMs the rule matches, and what it is called in messages.
void addMatchKeys(KeyHandlers& keys, const YamlReader& r, AccessRule& rule) {
    keys["label"] = [&](const YAML::Node& v) { rule.name = r.string(v, "label"); };
    keys["name"] = [&](const YAML::Node& v) {
        rule.name_globs = r.stringList(v, "name");
        // Point at the bad item when a list is given.
        for (std::size_t i = 0; i < rule.name_globs.size(); ++i) {
            if (Verdict glob = checkGlob(rule.name_globs[i]); !glob) {
                r.fail(v.IsSequence() ? v[i] : v, "name: " + glob.reason());
            }
        }
    };
    keys["uuid"] = [&](const YAML::Node& v) {
        for (const auto& text : r.stringList(v, "uuid")) {
            auto uuid = canonicalUuid(text);
            if (!uuid) r.fail(v, "uuid: '" + text + "' is not a UUID");
            rule.uuids.push_back(*uuid);
        }
    };
}

// What the matched VMs may ask for (pCPUs, commands, host policies, frequency
// limits) and how often.
void addPermissionKeys(KeyHandlers& keys, const YamlReader& r, RuleReading& reading) {
    keys["pcpus"] = [&](const YAML::Node& v) {
        CpuSet set = r.cpuList(v, "pcpus", "0-3,8");
        if (set.empty()) r.fail(v, "pcpus: empty; leave it out to mean the pinned pCPUs");
        reading.rule.allowed_pcpus = set;
    };
    keys["commands"] = [&](const YAML::Node& v) {
        reading.rule.allowed_actions = parseCommands(r, v);
    };
    keys["policies"] = [&](const YAML::Node& v) {
        reading.rule.allowed_policies = parsePolicyTypes(r, v);
    };
    keys["host_policy"] = [&](const YAML::Node& v) {
        reading.host_policy_mark = v.Mark();
        reading.rule.host_policy = parseHostPolicy(r, v);
    };
    keys["floor_khz"] = [&](const YAML::Node& v) {
        reading.floor_mark = v.Mark();
        reading.rule.limits.floor_khz = r.u32(v, "floor_khz");
    };
    keys["ceiling_khz"] = [&](const YAML::Node& v) {
        reading.ceiling_mark = v.Mark();
        reading.rule.limits.ceiling_khz = r.u32(v, "ceiling_khz");
    };
    keys["rate"] = [&](const YAML::Node& v) {
        reading.rule.requests_per_second = r.nonNegative(v, "rate");
    };
    keys["burst"] = [&](const YAML::Node& v) {
        reading.rule.burst = r.u32(v, "burst");
        if (reading.rule.burst == 0) r.fail(v, "burst: must be at least 1");
    };
    keys["policy_rate"] = [&](const YAML::Node& v) {
        reading.rule.policy_rate = r.nonNegative(v, "policy_rate");
    };
    keys["policy_burst"] = [&](const YAML::Node& v) {
        reading.rule.policy_burst = r.u32(v, "policy_burst");
        if (reading.rule.policy_burst == 0) r.fail(v, "policy_burst: must be at least 1");
    };
}

// How the matched VMs' channels are served.
void addChannelKeys(KeyHandlers& keys, const YamlReader& r, AccessRule& rule) {
    keys["physical"] = [&](const YAML::Node& v) {
        rule.physical_addressing = r.boolean(v, "physical");
    };
    keys["queries"] = [&](const YAML::Node& v) { rule.queries = r.boolean(v, "queries"); };
    keys["energy"] = [&](const YAML::Node& v) { rule.energy = r.boolean(v, "energy"); };
    keys["multi_pcpu"] = [&](const YAML::Node& v) { rule.multi_pcpu = r.boolean(v, "multi_pcpu"); };
    keys["shared_pcpus"] = [&](const YAML::Node& v) {
        rule.shared_pcpus = r.boolean(v, "shared_pcpus");
    };
    keys["record_format"] = [&](const YAML::Node& v) {
        std::string f = r.string(v, "record_format");
        auto format = parseRecordFormat(f);
        if (!format) {
            r.fail(v,
                   "record_format: '" + f + "' is not " + joinedNames(kRecordFormatNames, " or "));
        }
        rule.record_format = *format;
    };
}

// The checks that need more than one key.
void checkRule(const YamlReader& r, const YAML::Node& node, const std::string& where,
               const RuleReading& reading) {
    const AccessRule& rule = reading.rule;
    if (rule.name_globs.empty() && rule.uuids.empty()) {
        r.fail(node, where + ": needs 'name' (glob) or 'uuid' to say which VMs it matches");
    }
    if (rule.limits.floor_khz > rule.limits.ceiling_khz) {
        r.fail(reading.floor_mark.is_null() ? reading.ceiling_mark : reading.floor_mark,
               "floor_khz " + std::to_string(rule.limits.floor_khz) + " is above ceiling_khz " +
                   std::to_string(rule.limits.ceiling_khz));
    }
    if (rule.host_policy && !rule.allowed_policies.contains(rule.host_policy->type)) {
        r.fail(reading.host_policy_mark,
               "host_policy: type " +
                   std::string(nameIn(kHostPolicyTypeNames, rule.host_policy->type)) +
                   " is not in the rule's policies: (add it there, or the VM could not hold it)");
    }
}

}  // namespace

AccessRule parseVmRule(const YamlReader& r, const YAML::Node& node, std::size_t index) {
    const std::string where = "vms[" + std::to_string(index) + "]";
    RuleReading reading;
    reading.rule.name = where;
    KeyHandlers keys;
    addMatchKeys(keys, r, reading.rule);
    addPermissionKeys(keys, r, reading);
    addChannelKeys(keys, r, reading.rule);
    r.forEachKey(node, where, keys);
    checkRule(r, node, where, reading);
    return reading.rule;
}

}  // namespace vmpower

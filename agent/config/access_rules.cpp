#include "access_rules.h"

#include <algorithm>

#include "glob_pattern.h"
#include "uuid.h"

namespace vmpower {

AccessRules::AccessRules(std::vector<AccessRule> rules) : rules_(std::move(rules)) {
    for (auto& rule : rules_) {
        for (auto& uuid : rule.uuids) {
            if (auto canonical = canonicalUuid(uuid)) uuid = *canonical;
        }
    }
}

const AccessRule* AccessRules::match(std::string_view domain_name, std::string_view uuid) const {
    if (const RuleOverride* o = overrideFor(uuid)) return &o->rule;
    return matchRules(domain_name, uuid);
}

const AccessRule* AccessRules::matchRules(std::string_view domain_name, std::string_view uuid) const {
    const std::string name(domain_name);
    const auto canonical = canonicalUuid(uuid);
    for (const auto& rule : rules_) {
        bool by_name = std::any_of(rule.name_globs.begin(), rule.name_globs.end(),
                                   [&](const std::string& g) { return globMatches(g, name); });
        bool by_uuid = canonical && std::find(rule.uuids.begin(), rule.uuids.end(), *canonical) !=
                                        rule.uuids.end();
        if (by_name || by_uuid) return &rule;
    }
    return nullptr;
}

const RuleOverride* AccessRules::overrideFor(std::string_view uuid) const {
    if (overrides_.empty()) return nullptr;
    auto canonical = canonicalUuid(uuid);
    if (!canonical) return nullptr;
    auto it = overrides_.find(*canonical);
    return it == overrides_.end() ? nullptr : &it->second;
}

AccessRules AccessRules::withQueryOverride(std::string_view domain_name, std::string_view uuid,
                                 bool queries) const {
    AccessRules out = *this;
    auto canonical = canonicalUuid(uuid);
    if (!canonical) return out;
    out.overrides_.erase(*canonical);
    const AccessRule* base = matchRules(domain_name, uuid);
    if (base == nullptr || base->queries == queries) return out;
    RuleOverride o;
    o.rule_index = static_cast<std::size_t>(base - rules_.data());
    o.queries = queries;
    o.rule = *base;
    o.rule.name_globs.clear();
    o.rule.uuids = {*canonical};
    o.rule.queries = queries;
    out.overrides_.emplace(*canonical, std::move(o));
    return out;
}

RecordFormat AccessRules::recordFormat(std::string_view domain_name, std::string_view uuid) const {
    const AccessRule* rule = match(domain_name, uuid);
    return rule ? rule->record_format : RecordFormat::Dpdk464;
}

}  // namespace vmpower

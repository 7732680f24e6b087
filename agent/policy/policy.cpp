#include "policy.h"

#include <algorithm>

#include "glob_pattern.h"
#include "uuid.h"

namespace vmpower {

Policy::Policy(std::vector<VmPolicy> rules) : rules_(std::move(rules)) {
    for (auto& rule : rules_) {
        for (auto& uuid : rule.uuids) {
            if (auto canonical = canonicalUuid(uuid)) uuid = *canonical;
        }
    }
}

const VmPolicy* Policy::match(std::string_view domain_name, std::string_view uuid) const {
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

RecordFormat Policy::recordFormat(std::string_view domain_name, std::string_view uuid) const {
    const VmPolicy* rule = match(domain_name, uuid);
    return rule ? rule->record_format : RecordFormat::Dpdk464;
}

}  // namespace vmpower

#pragma once
// The one set of access rules in force: the config file's rules with the
// operator's run-time overrides. The Agent owns it and replaces it whole on a
// reload or an override; the request path and the host-policy engine read it
// through the reference they are given at construction, and keep no copy.

#include <memory>
#include <utility>
#include <vector>

#include "access_rules.h"

namespace vmpower {

class RulesInForce {
  public:
    explicit RulesInForce(std::shared_ptr<const AccessRules> rules = nullptr) {
        replace(std::move(rules));
    }
    RulesInForce(const RulesInForce&) = delete;
    RulesInForce& operator=(const RulesInForce&) = delete;

    // A reload or an override: a new set (none: no rules, every VM refused).
    // A reader that still holds the old set by its shared_ptr (a channel's
    // matched rule) keeps it alive until it sees the new one.
    void replace(std::shared_ptr<const AccessRules> rules) {
        rules_ = rules ? std::move(rules)
                       : std::make_shared<const AccessRules>(std::vector<AccessRule>{});
    }

    // By reference: reading costs no allocation and no atomic. Every
    // replace() makes a new pointer, which is how a cached match sees it.
    const std::shared_ptr<const AccessRules>& current() const { return rules_; }
    const AccessRules& operator*() const { return *rules_; }
    const AccessRules* operator->() const { return rules_.get(); }

  private:
    std::shared_ptr<const AccessRules> rules_;
};

}  // namespace vmpower

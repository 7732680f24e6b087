#pragma once
// The Arbiter's book of holds: what each requester holds on each cpufreq
// domain (at most one level and one turbo wish), with the counts the
// stakeholder rule reads kept in step: the highest level held, which VMs
// hold a level there or wish something of its turbo switch, and whether
// the operator does. A change costs O(log) and, when a holder only moves
// its level, allocates nothing (it runs per request).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cpufreq_backend.h"
#include "power_control.h"
#include "topology.h"

namespace vmpower {

class HoldBook {
  public:
    struct Hold {
        std::optional<std::uint32_t> khz;
        std::optional<bool> turbo;
    };
    // What one change did for the holder's VM as a whole: it began or
    // stopped holding a level on the domain, or any wish on its switch.
    struct Change {
        bool level_gained = false, level_lost = false;
        bool wish_gained = false, wish_lost = false;
    };
    using Holds = std::map<Requester, Hold>;

    // `switch_of`: each domain's turbo switch, by domain index.
    HoldBook(std::vector<std::optional<TurboSwitch>> switch_of, std::size_t switches);

    // nullptr: `who` holds nothing there.
    const Hold* find(CpufreqDomain d, const Requester& who) const;
    // Every hold change goes through here. nullopt: drop the hold.
    Change set(CpufreqDomain d, const Requester& who, std::optional<Hold> hold);
    const Holds& holds(CpufreqDomain d) const { return domains_[indexOf(d)].holds; }
    // The holders of one VM on `d`.
    std::vector<Requester> holdersOf(CpufreqDomain d, std::string_view domain_uuid) const;

    // The highest level held (the highest hold wins); nullopt: none.
    std::optional<std::uint32_t> highest(CpufreqDomain d) const;
    bool holdsLevel(CpufreqDomain d, std::string_view domain_uuid) const;
    bool operatorHoldsLevel(CpufreqDomain d) const {
        return domains_[indexOf(d)].operator_levels > 0;
    }
    // The operator's level on `d` (the highest of its holds there): while
    // it holds one, it is what the policy runs at; nullopt: none.
    std::optional<std::uint32_t> operatorLevel(CpufreqDomain d) const;

    bool wishes(TurboSwitch s, std::string_view domain_uuid) const;
    bool operatorWishes(TurboSwitch s) const {
        return switches_[indexOf(s)].operator_on + switches_[indexOf(s)].operator_off > 0;
    }
    // The operator's wish for the switch (on wins); nullopt: none.
    std::optional<bool> operatorWish(TurboSwitch s) const;
    unsigned wishesOn(TurboSwitch s) const { return switches_[indexOf(s)].on; }
    unsigned wishesOff(TurboSwitch s) const { return switches_[indexOf(s)].off; }

  private:
    struct DomainHolds {
        Holds holds;
        std::multiset<std::uint32_t> levels;  // of the holds, for the highest
        std::map<std::string, unsigned, std::less<>>
            level_holders;  // VM uuid -> holds with a level
        unsigned operator_levels = 0;
    };
    struct Wishes {
        unsigned on = 0, off = 0;
    };
    struct SwitchWishes {
        std::map<std::string, Wishes, std::less<>> by_vm;  // by uuid
        unsigned operator_on = 0, operator_off = 0;
        unsigned on = 0, off = 0;
    };

    void countLevel(DomainHolds& h, const Requester& who, int delta, Change& change);
    void countWish(TurboSwitch s, const Requester& who, bool on, int delta, Change& change);

    std::vector<DomainHolds> domains_;
    std::vector<std::optional<TurboSwitch>> switch_of_;
    std::vector<SwitchWishes> switches_;
};

}  // namespace vmpower

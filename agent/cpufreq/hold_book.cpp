#include "hold_book.h"

#include <utility>

namespace vmpower {

HoldBook::HoldBook(std::vector<std::optional<TurboSwitch>> switch_of, std::size_t switches)
    : domains_(switch_of.size()), switch_of_(std::move(switch_of)), switches_(switches) {}

const HoldBook::Hold* HoldBook::find(CpufreqDomain d, const Requester& who) const {
    const Holds& holds = domains_[indexOf(d)].holds;
    auto it = holds.find(who);
    return it == holds.end() ? nullptr : &it->second;
}

std::vector<Requester> HoldBook::holdersOf(CpufreqDomain d, std::string_view domain_uuid) const {
    std::vector<Requester> out;
    for (const auto& [who, hold] : domains_[indexOf(d)].holds) {
        if (!who.isOperator() && who.domainUuid() == domain_uuid) out.push_back(who);
    }
    return out;
}

std::optional<std::uint32_t> HoldBook::highest(CpufreqDomain d) const {
    const auto& levels = domains_[indexOf(d)].levels;
    if (levels.empty()) return std::nullopt;
    return *levels.rbegin();
}

std::optional<std::uint32_t> HoldBook::operatorLevel(CpufreqDomain d) const {
    const DomainHolds& h = domains_[indexOf(d)];
    std::optional<std::uint32_t> level;
    if (h.operator_levels == 0) return level;
    for (const auto& [who, hold] : h.holds) {
        if (who.isOperator() && hold.khz && (!level || *hold.khz > *level)) level = hold.khz;
    }
    return level;
}

std::optional<bool> HoldBook::operatorWish(TurboSwitch s) const {
    const SwitchWishes& k = switches_[indexOf(s)];
    if (k.operator_on > 0) return true;
    if (k.operator_off > 0) return false;
    return std::nullopt;
}

bool HoldBook::holdsLevel(CpufreqDomain d, std::string_view domain_uuid) const {
    return domains_[indexOf(d)].level_holders.contains(domain_uuid);
}

bool HoldBook::wishes(TurboSwitch s, std::string_view domain_uuid) const {
    return switches_[indexOf(s)].by_vm.contains(domain_uuid);
}

void HoldBook::countLevel(DomainHolds& h, const Requester& who, int delta, Change& change) {
    if (who.isOperator()) {
        h.operator_levels = static_cast<unsigned>(static_cast<int>(h.operator_levels) + delta);
        return;
    }
    auto n = h.level_holders.find(who.domainUuid());
    if (delta > 0) {
        if (n == h.level_holders.end()) {
            h.level_holders.emplace(who.domainUuid(), 1);
            change.level_gained = true;
        } else {
            ++n->second;
        }
    } else if (--n->second == 0) {
        h.level_holders.erase(n);
        change.level_lost = true;
    }
}

void HoldBook::countWish(TurboSwitch s, const Requester& who, bool on, int delta, Change& change) {
    SwitchWishes& k = switches_[indexOf(s)];
    unsigned& all = on ? k.on : k.off;
    all = static_cast<unsigned>(static_cast<int>(all) + delta);
    if (who.isOperator()) {
        unsigned& op = on ? k.operator_on : k.operator_off;
        op = static_cast<unsigned>(static_cast<int>(op) + delta);
        return;
    }
    auto w = k.by_vm.find(who.domainUuid());
    if (w == k.by_vm.end()) w = k.by_vm.emplace(who.domainUuid(), Wishes{}).first;
    unsigned& mine = on ? w->second.on : w->second.off;
    mine = static_cast<unsigned>(static_cast<int>(mine) + delta);
    if (w->second.on + w->second.off == 0) {
        k.by_vm.erase(w);
        change.wish_lost = true;
    } else if (delta > 0 && w->second.on + w->second.off == 1) {
        change.wish_gained = true;
    }
}

HoldBook::Change HoldBook::set(CpufreqDomain d, const Requester& who, std::optional<Hold> hold) {
    // Called per request: the common case (a holder moving its level) finds
    // and reuses every node, so it allocates nothing.
    DomainHolds& h = domains_[indexOf(d)];
    auto it = h.holds.find(who);
    // No hold yet reads as an empty one (no level, no turbo wish).
    const Hold old = it == h.holds.end() ? Hold{} : it->second;
    const bool had_level = old.khz.has_value(), has_level = hold && hold->khz;
    Change change;
    if (had_level && has_level) {
        auto node = h.levels.extract(h.levels.find(*old.khz));
        node.value() = *hold->khz;
        h.levels.insert(std::move(node));
    } else if (had_level) {
        h.levels.erase(h.levels.find(*old.khz));
        countLevel(h, who, -1, change);
    } else if (has_level) {
        h.levels.insert(*hold->khz);
        countLevel(h, who, +1, change);
    }
    if (auto s = switch_of_[indexOf(d)]) {
        if (old.turbo) countWish(*s, who, *old.turbo, -1, change);
        if (hold && hold->turbo) countWish(*s, who, *hold->turbo, +1, change);
    }
    if (!hold) {
        if (it != h.holds.end()) h.holds.erase(it);
    } else if (it != h.holds.end()) {
        it->second = *hold;
    } else {
        h.holds.emplace(who, *hold);
    }
    return change;
}

}  // namespace vmpower

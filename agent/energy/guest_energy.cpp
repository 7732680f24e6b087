#include "guest_energy.h"

#include <algorithm>
#include <limits>

namespace vmpower {

namespace {

// The live reading as the guest is told it: its watts the average since
// `before` (µJ per ms is mW), or since the VM was first watched.
VmEnergyReading averaged(VmEnergyReading r, const VmEnergyReading* before) {
    const std::uint64_t uj = before ? r.energy_uj - before->energy_uj : r.energy_uj;
    const std::uint64_t ms = before ? r.watched_ms - before->watched_ms : r.watched_ms;
    const std::uint64_t mw = ms == 0 ? 0 : uj / ms;
    r.power_mw = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(mw, std::numeric_limits<std::uint32_t>::max()));
    r.interval_ms = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(ms, std::numeric_limits<std::uint32_t>::max()));
    return r;
}

// Counts that went back: the VM's counting began again (a new run).
bool startedAgain(const VmEnergyReading& now, const VmEnergyReading& before) {
    return now.energy_uj < before.energy_uj || now.watched_ms < before.watched_ms;
}

}  // namespace

void GuestEnergyGate::publish(Clock::TimePoint now,
                              const std::unordered_map<std::string, VmEnergyReading>& live) {
    std::erase_if(published_, [&](const auto& p) { return !live.contains(p.first); });
    for (const auto& [uuid, r] : live) {
        auto it = published_.find(uuid);
        if (it == published_.end()) {
            published_.emplace(uuid, Published{averaged(r, nullptr), now});
        } else if (startedAgain(r, it->second.reading)) {
            it->second = {averaged(r, nullptr), now};
        } else if (now - it->second.at >= period_) {
            it->second = {averaged(r, &it->second.reading), now};
        }
    }
}

std::optional<VmEnergyReading> GuestEnergyGate::reading(std::string_view uuid) const {
    auto it = published_.find(std::string(uuid));
    if (it == published_.end()) return std::nullopt;
    return it->second.reading;
}

}  // namespace vmpower

#include "energy_counter.h"

namespace vmpower::guest {

HostCount hostCountOf(const vmpower_energy& reply) {
    HostCount c{reply.energy_uj, reply.energy_uj, reply.watched_ms};
    if (reply.num_vcpu <= VMPOWER_ENERGY_MAX_VCPUS) {
        c.core_uj = 0;
        for (unsigned i = 0; i < reply.num_vcpu; ++i) c.core_uj += reply.vcpu_energy_uj[i];
    }
    return c;
}

CountEvents EnergyCounter::add(const std::optional<HostCount>& reading) {
    CountEvents ev;
    if (!reading) {
        ev.unavailable = !unavailable_;
        unavailable_ = true;
        return ev;
    }
    ev.available = unavailable_;
    unavailable_ = false;
    const HostCount& r = *reading;
    // A count that goes back (energy or time) is another count: all of it
    // is new to us.
    const bool restarted =
        last_ && (r.energy_uj < last_->energy_uj || r.watched_ms < last_->watched_ms);
    if (!last_ || restarted) {
        ev.first = !last_;
        ev.new_host_count = restarted;
        ev.continued_from = count_.package_uj;
        count_.package_uj += r.energy_uj;
        count_.core_uj += r.core_uj;
    } else {
        count_.package_uj += r.energy_uj - last_->energy_uj;
        // The vCPUs' sum alone can shrink (a vCPU unplugged, or more than
        // 48 of them now): nothing added, the next reading counts from it.
        if (r.core_uj > last_->core_uj) count_.core_uj += r.core_uj - last_->core_uj;
    }
    last_ = r;
    return ev;
}

}  // namespace vmpower::guest

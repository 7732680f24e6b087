#pragma once
// The agent's settings -> the cpufreq Arbiter (shared by vmpowerd and tests).
// Only a translation: agent/cpufreq's makeArbiter is the one factory (it
// cannot take AgentSettings itself without depending on the YAML library).

#include <memory>

#include "config.h"
#include "make_arbiter.h"

namespace vmpower {

inline std::unique_ptr<Arbiter> makeArbiterFor(const AgentSettings& s) {
    CpufreqOptions o;
    o.sysfs_root = s.sysfs_root;
    o.state_dir = s.state_dir;
    o.driver_override = s.cpufreq_driver;
    o.step_khz = s.step_khz;
    o.host_cpus = s.host_cpus;
    return makeArbiter(o);
}

}  // namespace vmpower

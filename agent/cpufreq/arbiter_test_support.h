#pragma once
// What the arbiter's tests share: a fixture tree with an arbiter made on it,
// the files they look at, and two VMs' requesters.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "arbiter.h"
#include "make_arbiter.h"
#include "sysfs_fixture.h"

namespace vmpower::test {

inline std::string pol(int n, const char* attr) {
    return "devices/system/cpu/cpufreq/policy" + std::to_string(n) + "/" + attr;
}

inline const std::string kNoTurbo = "devices/system/cpu/intel_pstate/no_turbo";
inline const std::string kBoost = "devices/system/cpu/cpufreq/boost";
inline const FrequencyLimits kAny{};
inline const Requester kA = Requester::vcpu("aaaaaaaa-0000-0000-0000-000000000001", 0);
inline const Requester kB = Requester::vcpu("bbbbbbbb-0000-0000-0000-000000000002", 0);
struct ArbiterTest {
    // `isolated`: written to devices/system/cpu/isolated first (the host's
    // CPUs default to the others); `host`: agent.host_cpus, by default ""
    // (a host that keeps no CPU: most cases here are about VMs only);
    // nullopt: the default from `isolated`.
    explicit ArbiterTest(const char* driver, std::uint32_t step_khz = 0,
                         const char* isolated = nullptr, std::optional<CpuSet> host = CpuSet{})
        : fx(driver) {
        if (isolated) fx.write("devices/system/cpu/isolated", isolated);
        CpufreqOptions o;
        o.sysfs_root = fx.root();
        o.state_dir = fx.scratch("state");
        o.proc_root = fx.scratch("proc");
        o.step_khz = step_khz;
        o.host_cpus = std::move(host);
        arbiter = makeArbiter(o);
        journal = o.state_dir / kCpufreqJournalName;
    }
    bool apply(const Requester& who, CpuSet cpus, PowerAction a, FrequencyLimits l = kAny) {
        return arbiter->apply(who, cpus, a, l).applied;
    }
    std::string get(const std::string& file) const { return fx.read(file); }

    SysfsFixture fx;
    std::unique_ptr<Arbiter> arbiter;
    std::filesystem::path journal;
};

}  // namespace vmpower::test

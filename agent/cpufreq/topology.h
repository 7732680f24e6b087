#pragma once
// Which CPUs share one frequency: the kernel's cpufreq policies. CPU N
// belongs to the policy its devices/system/cpu/cpuN/cpufreq symlink points
// to (../cpufreq/policyM); the policy's affected_cpus are its online CPUs.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_set.h"

namespace vmpower {

class Sysfs;

struct CpufreqPolicy {
    std::string name;  // "policy2": journal group and log name
    std::string dir;   // relative to the sysfs root, no trailing slash
    CpuSet cpus;       // affected_cpus

    std::string file(std::string_view attribute) const {
        return dir + "/" + std::string(attribute);
    }
};

// One policy file's path (relative to the sysfs root) composed on the
// stack: the request path builds no std::string for it.
class PolicyFile {
  public:
    PolicyFile(const CpufreqPolicy& policy, std::string_view attribute);
    std::string_view view() const { return {buf_.data(), len_}; }
    operator std::string_view() const { return view(); }

  private:
    std::array<char, 192> buf_;
    std::size_t len_ = 0;
};

// One of the kernel's cpufreq policies, i.e. a set of CPUs that share one
// frequency, by its index in the topology. A type of its own: "policy"
// elsewhere in the agent means an access rule or a host policy.
enum class CpufreqDomain : std::uint32_t {};

inline std::size_t indexOf(CpufreqDomain d) {
    return static_cast<std::size_t>(d);
}

class CpufreqTopology {
  public:
    // Throws CpufreqError on a tree that is present but inconsistent. A
    // root without any cpufreq gives an empty topology.
    static CpufreqTopology scan(const Sysfs& sysfs);

    bool empty() const { return policies_.empty(); }
    const std::vector<CpufreqPolicy>& policies() const { return policies_; }
    std::size_t domainCount() const { return policies_.size(); }
    // The domain's policy directory.
    const CpufreqPolicy& policy(CpufreqDomain d) const { return policies_.at(indexOf(d)); }
    // nullopt for a CPU without cpufreq.
    std::optional<CpufreqDomain> domainOf(unsigned cpu) const;

  private:
    std::vector<CpufreqPolicy> policies_;
    std::map<unsigned, std::size_t> cpu_to_policy_;
};

}  // namespace vmpower

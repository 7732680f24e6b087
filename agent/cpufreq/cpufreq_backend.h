#pragma once
// How one cpufreq driver is told to run a policy at a frequency. The
// Arbiter decides which frequency; a backend only knows which files to
// write, in which order. Implementations: UserspaceBackend (acpi-cpufreq,
// intel_cpufreq), MinMaxBackend (intel_pstate, amd-pstate, cppc_cpufreq).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topology.h"
#include "verdict.h"

namespace vmpower {

// A turbo on/off file. `inverted` for intel_pstate/no_turbo (1 = off).
// Global knobs (one file for the machine) are shared by every policy.
struct TurboKnob {
    std::string file;
    bool inverted = false;
    bool global = false;
};

// A turbo switch (one TurboKnob file) by its index in the arbiter: several
// cpufreq domains share a global one.
enum class TurboSwitch : std::uint32_t {};

inline std::size_t indexOf(TurboSwitch s) {
    return static_cast<std::size_t>(s);
}

class CpufreqBackend {
  public:
    virtual ~CpufreqBackend() = default;

    virtual std::string_view name() const = 0;
    // Whether the policy can be driven, refused with why not. The Arbiter
    // asks once per policy at start (a policy that breaks later fails its
    // writes instead).
    virtual Verdict usable(const CpufreqPolicy& policy) const = 0;
    // The policy's files prepare()/setFrequency() may write: journaled
    // before the first write so they can be restored byte for byte.
    virtual std::vector<std::string> touchedFiles(const CpufreqPolicy& policy) const = 0;
    // Once before the first setFrequency() (e.g. switch to `userspace`).
    virtual void prepare(const CpufreqPolicy& policy) = 0;
    virtual void setFrequency(const CpufreqPolicy& policy, std::uint32_t khz) = 0;
    virtual std::optional<std::uint32_t> currentFrequency(const CpufreqPolicy& policy) const = 0;
    // The frequencies a request may choose, ascending, never empty for a
    // usable policy.
    virtual std::vector<std::uint32_t> frequencySteps(const CpufreqPolicy& policy) const = 0;
    virtual std::optional<TurboKnob> turboKnob(const CpufreqPolicy& policy) const = 0;
    // The fastest the policy is allowed to run in its current (live) state:
    // the Arbiter asks before its first write, so this is the "found"
    // ceiling a shared policy must never be held below. nullopt: unknown.
    virtual std::optional<std::uint32_t> foundCeiling(const CpufreqPolicy& policy) const = 0;
};

}  // namespace vmpower

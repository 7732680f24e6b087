#pragma once
// What the request path counts per channel, for vmpowerctl show-vm and the
// metrics: records by command and replies by result, NACKs by reason. Fixed
// arrays indexed by enums: counting costs an increment, never an allocation.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "name_table.h"
#include "power_action.h"
#include "request_decoder.h"

namespace vmpower {

// Why a request was NACKed (the log line says it in full).
enum class NackReason {
    RateLimited,         // over the rule's rate
    NoRule,              // no policy rule matches the VM
    NotAllowed,          // the rule does not allow it (command, query, physical, multi_pcpu)
    LegacyFormat,        // a query or policy in a 16-byte record
    Malformed,           // a field no valid request holds (unit, core_type, policy fields)
    UnknownCpu,          // a vCPU or host CPU the VM does not have (or no known pinning)
    OutsideAllowedCpus,  // pCPUs outside the rule's `pcpus` (or the VM's pinning)
    SharedPcpus,         // pCPUs shared with another VM and the rule's shared_pcpus is off
    SharedHardware,      // the arbiter's rule: others run on the hardware and did not ask
    CpufreqFailed,       // cpufreq could not do it (no cpufreq, no turbo switch, a write failed)
    PoliciesNotServed,   // PKT_POLICY with no host policy engine
    PolicyRefused,       // the host policy engine refused the policy
    HeldByOperator,      // the operator holds the hardware (set-cpu-freq) until it releases it
};

inline constexpr NameTable<NackReason, 13> kNackReasonNames{{
    {"rate_limited", NackReason::RateLimited},
    {"no_rule", NackReason::NoRule},
    {"not_allowed", NackReason::NotAllowed},
    {"legacy_format", NackReason::LegacyFormat},
    {"malformed", NackReason::Malformed},
    {"unknown_cpu", NackReason::UnknownCpu},
    {"outside_allowed_cpus", NackReason::OutsideAllowedCpus},
    {"shared_pcpus", NackReason::SharedPcpus},
    {"shared_hardware", NackReason::SharedHardware},
    {"cpufreq_failed", NackReason::CpufreqFailed},
    {"policies_not_served", NackReason::PoliciesNotServed},
    {"policy_refused", NackReason::PolicyRefused},
    {"held_by_operator", NackReason::HeldByOperator},
}};
inline constexpr std::size_t kNackReasonCount = kNackReasonNames.size();
static_assert(static_cast<std::size_t>(NackReason::HeldByOperator) + 1 == kNackReasonCount,
              "every reason has a name, and indexes an array");

constexpr std::string_view nackReasonName(NackReason r) {
    return nameIn(kNackReasonNames, r);
}

// What a record asked for, as counted: CPU_POWER by its unit's action, then
// every RequestKind (CpuPower's slot: a unit that is no action; Unknown's:
// an unknown command or a record of neither size).
inline constexpr std::size_t kPowerActionCount = kPowerActionNames.size();
static_assert(static_cast<std::size_t>(PowerAction::Middle) + 1 == kPowerActionCount);
inline constexpr std::size_t kCommandSlotCount = kPowerActionCount + kRequestKindCount;

constexpr std::size_t commandSlot(RequestKind kind, std::optional<PowerAction> action) {
    if (kind == RequestKind::CpuPower && action) return static_cast<std::size_t>(*action);
    return kPowerActionCount + static_cast<std::size_t>(kind);
}

// The action's name (up, down, ...) or the command's (CPU_POWER, PKT_POLICY, ...).
std::string_view commandSlotName(std::size_t slot);

// records = acked + nacked + ignored + answered. rate_limited counts the
// NACKs sent because the channel was over its rate (also in
// nacks_by_reason, but for a rate-limited PKT_POLICY_REMOVE, which is
// ignored). An accepted PKT_POLICY_REMOVE counts as acked though no reply is
// sent (DPDK sends none); a refused one as ignored.
struct RequestCounters {
    std::uint64_t records = 0, acked = 0, nacked = 0, ignored = 0, rate_limited = 0;
    std::uint64_t answered = 0;                                     // QUERY_* replied with data
    std::array<std::uint64_t, kCommandSlotCount> by_command{};      // sums to records
    std::array<std::uint64_t, kNackReasonCount> nacks_by_reason{};  // sums to nacked

    void countNack(NackReason r) {
        ++nacked;
        ++nacks_by_reason[static_cast<std::size_t>(r)];
    }
};

}  // namespace vmpower

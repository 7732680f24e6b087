#pragma once
// A host-side power policy (DPDK's PKT_POLICY): what a guest, or the
// operator, asks the host to decide for some of a VM's vCPUs over time.
// Typed and already checked: built by the record decoder (agent/request/
// policy_record.h) or the operator's commands, never from raw bytes.

#include <array>
#include <bitset>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "name_table.h"

namespace vmpower {

// DPDK's policy_to_use numbers: TRAFFIC=0 TIME=1 WORKLOAD=2 BRANCH_RATIO=3.
enum class HostPolicyType { Traffic, Time, Workload, BranchRatio };

inline constexpr NameTable<HostPolicyType, 4> kHostPolicyTypeNames{{
    {"traffic", HostPolicyType::Traffic},
    {"time", HostPolicyType::Time},
    {"workload", HostPolicyType::Workload},
    {"branch_ratio", HostPolicyType::BranchRatio},
}};

// DPDK's workload numbers: HIGH=0 MEDIUM=1 LOW=2.
enum class Workload { High, Medium, Low };

inline constexpr NameTable<Workload, 3> kWorkloadNames{{
    {"high", Workload::High},
    {"medium", Workload::Medium},
    {"low", Workload::Low},
}};

// Where a policy puts its vCPUs' pCPUs: the lowest allowed step, the
// middle one, the highest.
enum class PolicyLevel { Min, Middle, Max };

inline constexpr NameTable<PolicyLevel, 3> kPolicyLevelNames{{
    {"min", PolicyLevel::Min},
    {"middle", PolicyLevel::Middle},
    {"max", PolicyLevel::Max},
}};

// Packets per second of the VM's own interfaces, against these.
struct TrafficThresholds {
    std::uint32_t min_pps = 0;     // DPDK's min_packet_thresh (reported, not used by DPDK)
    std::uint32_t middle_pps = 0;  // avg_max_packet_thresh: at or above -> middle
    std::uint32_t max_pps = 0;     // max_max_packet_thresh: at or above -> max
    bool operator==(const TrafficThresholds&) const = default;
};

// Hours of the host's local day, 0-23.
using HourSet = std::bitset<24>;

struct HostPolicy {
    HostPolicyType type = HostPolicyType::Workload;
    std::vector<unsigned> vcpus;  // distinct, each a vCPU of the VM (checked)
    Workload workload = Workload::Low;
    HourSet busy_hours, quiet_hours, traffic_hours;
    TrafficThresholds traffic;
    std::vector<std::uint64_t> macs;  // select interfaces for TRAFFIC; empty: all
    bool operator==(const HostPolicy&) const = default;
};

// The policy's fields by name, each as text: the one definition of the
// names and forms every front end reads and writes: set-policy's JSON
// (agent/commands), a rule's `host_policy:` (agent/policy), the migration
// intent's <host-policy/> (xml/power_intent) and the kept-policies file
// (agent/hostpolicy).
//   type       traffic | time | workload | branch_ratio      (required)
//   vcpus      a list such as "0-1,3", each at most once      (required)
//   workload   high | medium | low                            (low)
//   busy_hours, quiet_hours, traffic_hours   hours 0-23: "9-17,20"
//   min_pps, middle_pps, max_pps             packets per second, 0-2^32-1
//   macs       "52:54:00:12:34:56,52:54:00:ab:cd:ef"
using HostPolicyFields = std::map<std::string, std::string, std::less<>>;
inline constexpr std::array<std::string_view, 10> kHostPolicyFieldNames{
    "type",          "vcpus",   "workload", "busy_hours", "quiet_hours",
    "traffic_hours", "min_pps", "middle_pps", "max_pps",  "macs"};
inline constexpr unsigned kMaxPolicyVcpu = 255;

// Throws std::invalid_argument naming the field ("'busy_hours' must be ...").
// vCPUs are checked against the VM later, by the engine. vcpus come out
// ascending.
HostPolicy hostPolicyFromFields(const HostPolicyFields& fields);
// Only the fields the type uses (and never an empty list).
HostPolicyFields hostPolicyFields(const HostPolicy& policy);
// "0-2,5" for {0,1,2,5}: the form the list fields take (a cpulist's).
std::string indexListText(const std::vector<unsigned>& indexes);
std::vector<unsigned> hourList(const HourSet& hours);

// A vfid entry holds a MAC as DPDK's guest puts it there (a union of the
// 6-byte address and a u64): the first octet in the lowest byte, the top
// two bytes unused. macText reads the low 48 bits: "52:54:00:12:34:56".
std::string macText(std::uint64_t mac);
std::optional<std::uint64_t> parseMac(std::string_view text);

}  // namespace vmpower

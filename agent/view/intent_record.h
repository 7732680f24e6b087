#pragma once
// A running domain's power intent on this host as the control room sees
// it: per vCPU the level it holds and where that came from (held since a
// guest's request, restored from a live migration or after an agent
// restart), and its host policy. Kept by the PowerIntentKeeper
// (agent/intent); values only.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "power_control.h"
#include "power_intent.h"

namespace vmpower {

struct VcpuIntentRecord {
    enum class Origin { Guest, Migration, AgentRestart };
    VcpuIntent intent;  // as written (Guest) or as read (Migration)
    Origin origin = Origin::Guest;
    std::chrono::system_clock::time_point at;  // held since / restored at
    bool applied = true;                       // restored: this host applied it
    std::string refusal;                       // restored: why not
    HeldRequest held;                          // what this host holds for it
};

struct DomainIntentRecord {
    std::map<unsigned, VcpuIntentRecord> vcpus;
    // The guest's or operator's host policy in force (written with the
    // intent), or the one restored from a migration.
    std::optional<IntentHostPolicy> host_policy;
    std::string host_policy_refusal;  // migration: why this host did not take it
};

// What the IntentWriter (agent/core) did with the intents, for the metrics.
struct IntentWriteStats {
    std::uint64_t written = 0;    // libvirt calls that set or removed it
    std::uint64_t attempts = 0;   // every call made (written, failed, gone)
    std::uint64_t busy = 0;       // writes put off because a job ran
    std::uint64_t in_flight = 0;  // writes handed to the hypervisor, not answered
};

// The time for show-vm: "2026-11-30 12:34:56 UTC".
std::string intentTimeText(std::chrono::system_clock::time_point t);

}  // namespace vmpower

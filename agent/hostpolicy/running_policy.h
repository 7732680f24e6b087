#pragma once
// One VM's host policy in force, whatever its type: what level it wants
// now, what the engine's one timer must wake it for and what it measures.
// Each type is a class of its own (time_policy, workload_policy,
// traffic_policy, branch_ratio_policy); the engine (host_policy_engine)
// only schedules the timer and holds the levels, so it never asks a
// policy's type.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock.h"
#include "guest_identity.h"
#include "host_policy.h"
#include "policy_sources.h"
#include "verdict.h"
#include "wall_clock.h"

namespace vmpower {

struct HostPolicySettings {
    std::chrono::milliseconds traffic_interval{1000};
    std::chrono::milliseconds branch_interval{100};
    double branch_ratio_threshold = 0.1;  // misses / branches above it: max
    unsigned branch_hysteresis_samples = 3;
    // The longest a slow statistics source stretches traffic_interval to.
    std::chrono::milliseconds traffic_interval_cap{30000};
};

// The edges. A null source refuses the policy type that needs it.
struct HostPolicyEdges {
    const Clock* clock = nullptr;     // intervals (steady)
    const WallClock* wall = nullptr;  // TIME's hours (local)
    TrafficSource* traffic = nullptr;
    BranchCounterSource* branches = nullptr;
};

// The level a policy wants (none: it holds nothing, the vCPUs run as the
// VM's own requests say) and why, in words for show-vm and the log.
struct PolicyDecision {
    std::optional<PolicyLevel> level;
    std::string words;
};

// What the engine's one timer is for: as a policy's needs, the wake-ups it
// asks for; as a tick, what this wake-up brought.
struct PolicyWakeups {
    bool hour = false;      // the local hour changed / must be watched
    bool traffic = false;   // interface counters sampled / to sample
    bool branches = false;  // branch counters due / to read
};

class RunningPolicy {
  public:
    virtual ~RunningPolicy() = default;

    // The level it wants now.
    virtual PolicyDecision decide() const = 0;
    // What the timer must wake it for (none: decided once).
    virtual PolicyWakeups needs() const = 0;
    // Whether this tick calls for a new decision.
    virtual bool dueAt(const PolicyWakeups& tick) const = 0;

    // This VM's interfaces in a traffic sample (null: not in the answer).
    virtual void takeTraffic(const std::vector<InterfaceCounters>* /*counters*/,
                             Clock::TimePoint /*at*/) {}
    // Reads the branch counters it opened.
    virtual void readBranches() {}
    // Lets go of the counters it opened. They are the VM's, so a successor
    // that counts too has opened them again: the engine calls this only
    // when the policy goes without one.
    virtual void stop() {}
};

// The running policy for `policy` on `guest`, or why this agent cannot run
// it (no source for what it measures, counters that would not open).
Checked<std::unique_ptr<RunningPolicy>> startPolicy(const HostPolicy& policy,
                                                    const GuestIdentity& guest,
                                                    const HostPolicyEdges& edges,
                                                    const HostPolicySettings& settings);

}  // namespace vmpower

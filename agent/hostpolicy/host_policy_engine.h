#pragma once
// Runs the VMs' host policies (DPDK's PKT_POLICY: TIME, WORKLOAD, TRAFFIC,
// BRANCH_RATIO). Each policy is a RunningPolicy of its type's class, which
// decides its level and measures what it needs; the engine only schedules
// and holds: it holds the level on the policy's vCPUs through
// PowerControl::apply, as Requester::hostPolicy(VM uuid, vCPU): the
// same arbiter, stakeholder rule, floor and
// ceiling as the VM's own requests, in a slot of its own beside them (the
// highest hold wins), so removing a policy gives the vCPUs back to what the
// VM held before. One policy per VM; a new one replaces it.
//
// No loop of its own: it asks for ONE timer through `arm` (the next local
// hour change for TIME, the next sample for TRAFFIC and BRANCH_RATIO) and
// the owner calls onTimer(). TRAFFIC is measured for all its VMs in one
// TrafficSource call per sample, off the loop: its answer comes later, and
// the TrafficSampler keeps one in flight at most and stretches the interval
// while the source is slow.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "access_rules.h"
#include "clock.h"
#include "guest_identity.h"
#include "host_policy.h"
#include "host_policy_sink.h"
#include "log_throttle.h"
#include "power_control.h"
#include "rules_in_force.h"
#include "running_policy.h"
#include "traffic_sampler.h"
#include "verdict.h"

namespace vmpower {

// What vmpowerctl show-vm shows.
struct HostPolicyView {
    HostPolicy policy;
    PolicyOrigin origin = PolicyOrigin::Guest;
    std::optional<PolicyLevel> level;            // in force; none: holds nothing
    std::string decision;                        // the last decision, in words
    std::string refusal;                         // the last refusal of a decision ("" if none)
    std::optional<TrafficSamplingView> traffic;  // how it is sampled, when it measures traffic
};

class HostPolicyEngine final : public HostPolicySink {
  public:
    using FindGuest = std::function<const GuestIdentity*(std::string_view uuid)>;
    using ArmTimer = std::function<void(std::optional<std::chrono::milliseconds>)>;  // none: off
    // The VM's policy or its origin changed (set, replaced, removed).
    using Changed = std::function<void(std::string_view uuid)>;

    HostPolicyEngine(PowerControl& power, const PcpuSharing& sharing, const RulesInForce& rules,
                     FindGuest find, ArmTimer arm, HostPolicyEdges edges,
                     HostPolicySettings settings = {});
    ~HostPolicyEngine() override;
    HostPolicyEngine(const HostPolicyEngine&) = delete;
    HostPolicyEngine& operator=(const HostPolicyEngine&) = delete;

    // Replaces the VM's policy: accepted once its first decision is held,
    // else refused with why, and the VM keeps what it had.
    Verdict set(const GuestIdentity& guest, HostPolicy policy, PolicyOrigin origin);
    // HostPolicySink's name for set().
    Verdict setHostPolicy(const GuestIdentity& guest, HostPolicy policy,
                          PolicyOrigin origin) override {
        return set(guest, std::move(policy), origin);
    }
    bool removeHostPolicy(std::string_view uuid) override;

    void onChange(Changed changed) { changed_ = std::move(changed); }

    // The owner replaced the rules in force (a reload or an override): a
    // policy the VM's rule no longer allows is dropped, a rule's policy
    // follows the rule (replaced, or dropped when the rule has none now),
    // the rest decide again under the new limits. The owner then calls
    // settle() for every running domain.
    void rulesReplaced();
    // The domain is running: a VM holding no policy gets its rule's
    // (host_policy:), tried once per start, reload or agent start.
    void settle(std::string_view uuid);
    // The domain stopped (PowerControl already dropped its holds).
    void forget(std::string_view uuid);
    // The domain changed (re-pinned, re-read): decide and apply again.
    void refresh(std::string_view uuid);
    // Drops policies of domains no longer running (after a reconcile).
    void forgetMissing();

    void onTimer();  // never throws

    std::optional<HostPolicyView> view(std::string_view uuid) const;
    // How TRAFFIC's interface statistics are sampled (the metrics).
    TrafficSamplingView trafficSampling() const { return traffic_.view(); }
    // Every active policy, by uuid (for the kept-policies file).
    std::map<std::string, HostPolicyView, std::less<>> views() const;
    std::size_t size() const { return active_.size(); }

  private:
    struct Active {
        HostPolicyView view;
        std::string name;
        std::unique_ptr<RunningPolicy> running;  // of view.policy's type
    };
    using Actives = std::map<std::string, Active, std::less<>>;

    // The rule's checks every policy passes: its type allowed, its vCPUs
    // the VM's.
    static Verdict admit(const GuestIdentity& guest, const AccessRule& rule,
                         const HostPolicy& policy);
    Verdict replace(const GuestIdentity& guest, const AccessRule& rule, Active next);

    // Holding: the one requester of a policy's hold on a vCPU, in the slot
    // beside the VM's own (Requester::hostPolicy), and its release
    // (outside `keep`: everywhere).
    static Requester holder(std::string_view uuid, unsigned vcpu);
    void releaseHold(std::string_view uuid, unsigned vcpu, const CpuSet& keep = CpuSet{});
    void releaseHolds(std::string_view uuid, const HostPolicy& policy);
    // Holds `level` (none: nothing) on the policy's vCPUs. On refusal
    // nothing of this call stays held.
    Verdict hold(const GuestIdentity& guest, const AccessRule& rule, const HostPolicy& policy,
                 std::optional<PolicyLevel> level);
    void evaluate(const std::string& uuid, Active& a, bool force);
    void drop(Actives::iterator it, const char* why);
    void applyRuleDefault(const GuestIdentity& guest);
    void followReloadedRule(const std::string& uuid);

    // Scheduling: what this tick brought (samples taken), and the one
    // timer for the next hour change or sample.
    PolicyWakeups sample();
    void sampleTraffic();
    void trafficAnswered(const std::vector<std::string>& asked, const TrafficSample* sample);
    HostPolicyView viewOf(const Active& a) const;
    void sampleBranches();
    void rearm();

    // A VM's policy changes reach the log at most once per
    // kLogThrottleInterval (a guest may send PKT_POLICY on 64 channels).
    bool allowChangeLine(std::string_view uuid, std::uint64_t& suppressed);
    void notify(std::string_view uuid) const {
        if (changed_) changed_(uuid);
    }

    PowerControl& power_;
    const PcpuSharing& sharing_;
    const RulesInForce& rules_;  // the owner's: read, never copied
    FindGuest find_;
    ArmTimer arm_;
    Changed changed_;
    std::set<std::string, std::less<>> settled_;  // rule's policy tried since start/reload
    HostPolicyEdges edges_;
    HostPolicySettings settings_;
    Actives active_;  // by uuid
    VmLogThrottles change_log_;
    int hour_ = -1;   // the local hour last decided at
    Clock::TimePoint next_branch_{};
    TrafficSampler traffic_;  // last: its answer, in flight, goes first
};

const char* originName(PolicyOrigin origin);

}  // namespace vmpower

#pragma once
// Runs the VMs' host policies (DPDK's PKT_POLICY: TIME, WORKLOAD, TRAFFIC,
// BRANCH_RATIO): decides a level per policy and holds it on the policy's
// vCPUs through PowerControl::apply, as Requester::hostPolicy(VM uuid,
// vCPU): the same arbiter, stakeholder rule, floor and
// ceiling as the VM's own requests, in a slot of its own beside them (the
// highest hold wins), so removing a policy gives the vCPUs back to what the
// VM held before. One policy per VM; a new one replaces it.
//
// No loop of its own: it asks for ONE timer through `arm` (the next local
// hour change for TIME, the next sample for TRAFFIC and BRANCH_RATIO) and
// the owner calls onTimer(). TRAFFIC is measured for all its VMs in one
// TrafficSource call per sample.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "clock.h"
#include "guest_identity.h"
#include "host_policy.h"
#include "host_policy_sink.h"
#include "policy.h"
#include "policy_level.h"
#include "policy_sources.h"
#include "power_control.h"
#include "wall_clock.h"

namespace vmpower {

struct HostPolicySettings {
    std::chrono::milliseconds traffic_interval{1000};
    std::chrono::milliseconds branch_interval{100};
    double branch_ratio_threshold = 0.1;  // misses / branches above it: max
    unsigned branch_hysteresis_samples = 3;
};

// The edges. A null source refuses the policy type that needs it.
struct HostPolicyEdges {
    const Clock* clock = nullptr;     // intervals (steady)
    const WallClock* wall = nullptr;  // TIME's hours (local)
    TrafficSource* traffic = nullptr;
    BranchCounterSource* branches = nullptr;
};

// What vmpowerctl show-vm shows.
struct HostPolicyView {
    HostPolicy policy;
    PolicyOrigin origin = PolicyOrigin::Guest;
    std::optional<PolicyLevel> level;  // in force; none: holds nothing
    std::string decision;              // the last decision, in words
    std::string refusal;               // the last refusal of a decision ("" if none)
};

class HostPolicyEngine final : public HostPolicySink {
  public:
    using FindGuest = std::function<const GuestIdentity*(std::string_view uuid)>;
    using ArmTimer = std::function<void(std::optional<std::chrono::milliseconds>)>;  // none: off
    // The VM's policy or its origin changed (set, replaced, removed).
    using Changed = std::function<void(std::string_view uuid)>;

    HostPolicyEngine(PowerControl& power, const PcpuSharing& sharing,
                     std::shared_ptr<const Policy> policy, FindGuest find, ArmTimer arm,
                     HostPolicyEdges edges, HostPolicySettings settings = {});
    ~HostPolicyEngine() override;
    HostPolicyEngine(const HostPolicyEngine&) = delete;
    HostPolicyEngine& operator=(const HostPolicyEngine&) = delete;

    std::string setHostPolicy(const GuestIdentity& guest, HostPolicy policy,
                              PolicyOrigin origin) override;
    bool removeHostPolicy(std::string_view uuid) override;

    void onChange(Changed changed) { changed_ = std::move(changed); }

    // A reload: a policy the VM's rule no longer allows is dropped, a rule's
    // policy follows the rule (replaced, or dropped when the rule has none
    // now), the rest decide again under the new limits. The owner then
    // calls settle() for every running domain.
    void setPolicy(std::shared_ptr<const Policy> policy);
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
    // Every active policy, by uuid (for the kept-policies file).
    std::map<std::string, HostPolicyView, std::less<>> views() const;
    std::size_t size() const { return active_.size(); }

  private:
    struct Active {
        HostPolicyView view;
        std::string name;
        // TRAFFIC: the last sample's total and when it was taken.
        std::optional<std::uint64_t> rx_total;
        Clock::TimePoint rx_at{};
        std::optional<double> pps;
        // BRANCH_RATIO
        std::optional<BranchCounts> counts;
        std::optional<BranchHysteresis> hysteresis;
        std::optional<double> ratio;
    };

    bool measuresTraffic(const Active& a) const;
    std::optional<PolicyLevel> decide(Active& a, std::string& words) const;
    // Holds `level` (none: nothing) on the policy's vCPUs. "" or the refusal;
    // on refusal nothing of this call stays held.
    std::string hold(const GuestIdentity& guest, const VmPolicy& rule, const HostPolicy& policy,
                     std::optional<PolicyLevel> level);
    void releaseHolds(std::string_view uuid, const HostPolicy& policy);
    void evaluate(const std::string& uuid, Active& a, bool force);
    void sampleTraffic();
    void sampleBranches();
    void drop(std::map<std::string, Active, std::less<>>::iterator it, const char* why);
    void rearm();
    void applyRuleDefault(const GuestIdentity& guest);
    void notify(std::string_view uuid) const {
        if (changed_) changed_(uuid);
    }

    PowerControl& power_;
    const PcpuSharing& sharing_;
    std::shared_ptr<const Policy> policy_;
    FindGuest find_;
    ArmTimer arm_;
    Changed changed_;
    std::set<std::string, std::less<>> settled_;  // rule's policy tried since start/reload
    HostPolicyEdges edges_;
    HostPolicySettings settings_;
    std::map<std::string, Active, std::less<>> active_;  // by uuid
    int hour_ = -1;                                      // the local hour last decided at
    Clock::TimePoint next_traffic_{}, next_branch_{};
};

const char* originName(PolicyOrigin origin);

}  // namespace vmpower

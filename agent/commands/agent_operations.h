#pragma once
// What the control commands may see and do to a running agent: the Agent's
// public operations, nothing more. The command table (control_commands.h)
// is written against this, so it reaches no agent internals and calls no
// libvirt; the Agent implements it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cpu_set.h"
#include "domain.h"
#include "domain_source.h"
#include "host_policy_engine.h"
#include "policy.h"
#include "power_action.h"
#include "power_control.h"
#include "power_intent_keeper.h"

namespace vmpower {

using DomainMap = std::map<std::string, std::unique_ptr<Domain>, std::less<>>;

struct HypervisorStatus {
    std::string uri;
    bool connected = false;
    std::uint64_t connects = 0;
};

class EnergySampler;
// What the agent counts about itself, for the metrics.
struct AgentTelemetry {
    std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
    std::uint64_t reloads_applied = 0, reloads_refused = 0;
    std::map<std::string, std::uint64_t, std::less<>> events;  // by domainEventName()
    std::uint64_t reconciles = 0;
    double last_reconcile_seconds = 0;
    std::uint64_t peer_check_refusals =
        0;  // channels' sockets refused (agent/core/peer_verifier.h)
};

class AgentOperations {
  public:
    // Read-only views.
    virtual const DomainMap& domains() const = 0;  // running domains, by UUID
    virtual HypervisorStatus hypervisorStatus() const = 0;
    virtual bool ready() const = 0;                 // first reconcile done
    virtual const PowerControl& power() const = 0;  // its query side
    virtual const Policy& policy() const = 0;       // the one in force, overrides included
    // A running domain's power intent and where it came from; null: none kept.
    virtual const DomainIntentRecord* powerIntent(std::string_view uuid) const = 0;
    // Per-VM energy accounting; nullptr when the agent has none.
    virtual const EnergySampler* energy() const { return nullptr; }
    virtual const AgentTelemetry& telemetry() const = 0;

    // The operator holds a request on one CPU like a VM does (arbitrated);
    // it overrides the shared-hardware rule (root's choice), and the
    // verdict names the running VMs it affects.
    virtual PowerVerdict applyOperatorRequest(unsigned cpu, PowerAction action) = 0;
    // Through the hypervisor adapter; throws std::runtime_error with
    // libvirt's reason. A defined domain, running or not; nullopt: unknown.
    virtual void pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus) = 0;
    virtual std::optional<DomainName> lookupDefined(std::string_view name_or_uuid) = 0;
    // False: no such running domain or channel.
    virtual bool setChannelEnabled(std::string_view uuid, unsigned index, bool enabled) = 0;
    // Until the next reload (Policy::withQueryOverride).
    virtual void setQueryOverride(std::string_view name, std::string_view uuid, bool queries) = 0;
    // The operator's host policy for a running VM (by uuid), checked like a
    // guest's: "" when accepted, else why not. Remove: false if it had none.
    virtual std::string setHostPolicy(std::string_view uuid, HostPolicy policy) = 0;
    virtual bool removeHostPolicy(std::string_view uuid) = 0;
    virtual std::optional<HostPolicyView> hostPolicy(std::string_view uuid) const = 0;
    // The config file again; false and *error (FILE:LINE:COLUMN: ...) when
    // it is refused.
    virtual bool reload(std::string* error) = 0;

  protected:
    ~AgentOperations() = default;
};

}  // namespace vmpower

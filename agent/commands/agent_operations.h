#pragma once
// What the control commands may see and do to a running agent: the read-only
// views (agent/view/agent_view.h: value snapshots, never agent/core's live
// objects) and the Agent's public operations, nothing more. The command
// table (control_commands.h) is written against this, so it reaches no agent
// internals and calls no libvirt; the Agent (agent/daemon) implements it.

#include <optional>
#include <string_view>

#include "agent_view.h"
#include "async_call.h"
#include "cpu_set.h"
#include "domain_name.h"
#include "host_policy.h"
#include "power_action.h"
#include "power_control.h"
#include "verdict.h"

namespace vmpower {

class AgentOperations : public AgentView {
  public:
    // The operator holds a request on one CPU like a VM does (arbitrated);
    // it overrides the shared-hardware rule (root's choice), and the
    // verdict names the running VMs it affects.
    virtual PowerVerdict applyOperatorRequest(unsigned cpu, PowerAction action) = 0;
    // The operator's hold on one CPU given back: the VMs' holds there are in
    // force again. False: the operator held nothing there.
    virtual bool releaseOperatorRequest(unsigned cpu) = 0;
    // Through the hypervisor adapter, off the loop: `done` gets the answer
    // later (async_call.h), a refusal with libvirt's reason. lookupDefined:
    // a defined domain, running or not; nullopt: unknown.
    virtual AsyncCall pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus,
                              DoneVerdict done) = 0;
    virtual AsyncCall lookupDefined(std::string_view name_or_uuid,
                                    Done<std::optional<DomainName>> done) = 0;
    // False: no such running domain or channel.
    virtual bool setChannelEnabled(std::string_view uuid, unsigned index, bool enabled) = 0;
    // Until the next reload (AccessRules::withQueryOverride).
    virtual void setQueryOverride(std::string_view name, std::string_view uuid, bool queries) = 0;
    // The operator's host policy for a running VM (by uuid), checked like a
    // guest's: accepted, or refused with why not. Remove: false if it had none.
    virtual Verdict setHostPolicy(std::string_view uuid, HostPolicy policy) = 0;
    virtual bool removeHostPolicy(std::string_view uuid) = 0;
    // Every VM's vCPU holds and guest or operator host policies released,
    // and their kept intent forgotten (metadata and state file): how many
    // VMs held something.
    virtual std::size_t releaseAll() = 0;
    // The config file again: accepted, or refused with the ConfigError text
    // (FILE:LINE:COLUMN: ...) and the old policy kept.
    virtual Verdict reload() = 0;

  protected:
    ~AgentOperations() = default;
};

}  // namespace vmpower

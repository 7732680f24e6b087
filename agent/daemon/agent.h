#pragma once
// vmpowerd's parts wired together around one libvirt event loop:
// LibvirtHypervisor -> DomainRegistry -> Channel -> RequestHandler ->
// PowerControl, plus the control socket and signals. Tests build an Agent
// in-process (test:/// driver) or run the vmpowerd binary (real libvirtd).

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent_operations.h"
#include "clock.h"
#include "config.h"
#include "control_server.h"
#include "domain_events.h"
#include "domain_registry.h"
#include "energy_sampler.h"
#include "fd_store.h"
#include "host_policy_engine.h"
#include "libvirt_hypervisor.h"
#include "peer_verifier.h"
#include "periodic_task.h"
#include "power_intent_keeper.h"
#include "request_handler.h"
#include "retry_scheduler.h"
#include "rules_in_force.h"
#include "sharing_forwarder.h"

namespace vmpower {

struct AgentOptions {
    std::string uri = "qemu:///system";
    std::filesystem::path config_path;  // re-read on SIGHUP; empty: no reload
    bool handle_signals = true;         // SIGTERM/SIGINT stop, SIGHUP reloads
    bool control_socket = true;
    bool notify_systemd = true;
    // --log-level from the command line: wins over the config file's
    // log_level, at start and across reloads. Empty: the file decides.
    std::string log_level;
    // Host policies' edges; null: the real ones (the host's clock, libvirt's
    // interface statistics, perf branch counters). Tests put fakes here.
    const WallClock* wall_clock = nullptr;
    TrafficSource* traffic = nullptr;
    BranchCounterSource* branch_counters = nullptr;
    // The request path's clock (the VMs' rate-limit buckets and log
    // throttles); null: the steady clock. Tests move it by hand.
    const Clock* request_clock = nullptr;
};

class Agent final : public DomainEventListener, public AgentOperations {
  public:
    // EventLoop::registerImpl() must have run (the constructor does it).
    Agent(AgentOptions options, Config config, PowerControl& power);
    ~Agent();
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    void start();  // connect to libvirt, open the control socket
    void runUntilStopped();
    void runOnce() { EventLoop::runOnce(); }
    void stop() { stopping_ = true; }
    bool stopping() const { return stopping_; }
    bool ready() const override { return ready_; }  // first reconcile done

    // The config file again: refused (old policy kept) with the
    // ConfigError text (FILE:LINE:COLUMN: ...) if invalid. Drops the
    // set-query overrides.
    Verdict reload() override;
    nlohmann::json state() const;  // the "state" command
    // One control command; ReadOnly clients are refused every command that
    // changes something. For tests and in-process callers: a command that
    // answers later (it asks libvirt) runs the loop until it has answered.
    nlohmann::json control(const nlohmann::json& request,
                           ControlAccess access = ControlAccess::Full);

    DomainRegistry& registry() { return *registry_; }
    const PowerIntentKeeper& intents() const { return *intents_; }
    LibvirtHypervisor& hypervisor() { return *hypervisor_; }
    const Config& config() const { return config_; }

    // DomainEventListener
    void onConnected() override;
    void onDomainEvent(std::string_view uuid, const DomainEvent& event) override;

    // AgentOperations (the control commands' view of the agent)
    std::vector<DomainView> domains() const override;
    std::optional<DomainView> domain(std::string_view name_or_uuid) const override;
    HypervisorStatus hypervisorStatus() const override;
    const PowerControl& power() const override { return power_; }
    const AccessRules& accessRules() const override { return *rules_; }
    const DomainIntentRecord* powerIntent(std::string_view uuid) const override {
        return intents_->find(uuid);
    }
    const EnergySampler* energy() const override { return energy_.get(); }
    const AgentTelemetry& telemetry() const override { return telemetry_; }
    LoopTurns loopTurns() const override { return EventLoop::turns(); }
    IntentWriteStats intentWrites() const override { return intents_->writer().stats(); }
    PowerVerdict applyOperatorRequest(unsigned cpu, PowerAction action) override;
    bool releaseOperatorRequest(unsigned cpu) override;
    AsyncCall pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus,
                      DoneVerdict done) override;
    AsyncCall lookupDefined(std::string_view name_or_uuid,
                            Done<std::optional<DomainName>> done) override;
    bool setChannelEnabled(std::string_view uuid, unsigned index, bool enabled) override;
    void setQueryOverride(std::string_view name, std::string_view uuid, bool queries) override;
    Verdict setHostPolicy(std::string_view uuid, HostPolicy policy) override;
    bool removeHostPolicy(std::string_view uuid) override;
    std::size_t releaseAll() override { return intents_->releaseAll(); }
    std::optional<HostPolicyView> hostPolicy(std::string_view uuid) const override;
    std::optional<TrafficSamplingView> trafficSampling() const override {
        return host_policies_->trafficSampling();
    }

  private:
    // Replaces the rules in force (a reload, an override) and tells whom it
    // concerns: the registry and the host-policy engine (the handler reads
    // rules_ at each channel's next record).
    void setAccessRules(std::shared_ptr<const AccessRules> rules);

    void setUpSignals();
    // A control socket request: its answer now, or nullopt having taken
    // `later` to answer when libvirt has.
    std::optional<nlohmann::json> serve(const nlohmann::json& request, ControlAccess access,
                                        ControlReply& later);
    // The registry's answers: a reconcile applied, a domain read or gone.
    void reconciled(bool ok);
    void domainSettled(std::string_view uuid);
    // Host policies beyond the engine: the VM's rule's once it runs, the
    // intent after each change.
    void settleHostPolicy(const Domain& d);
    void hostPolicyChanged(std::string_view uuid);

    AgentOptions options_;
    Config config_;  // its rules are moved into rules_ (at start and on each reload)
    // The one set of access rules in force; the handler and the engine read
    // it by reference.
    RulesInForce rules_;
    PowerControl& power_;
    SteadyClock clock_;
    std::unique_ptr<RetryScheduler> retries_;
    std::unique_ptr<PeerVerifier> peers_;
    SharingForwarder sharing_;
    std::unique_ptr<RequestHandler> handler_;
    FdBudget fd_budget_{FdBudget::channelsFor(1024)};  // set from the real limit at start()
    // systemd's fd store (notify_systemd only): built at start(), after the
    // budget its kept sockets draw on; outlives the registry's channels.
    std::unique_ptr<FdStore> fd_store_;
    std::unique_ptr<ChannelEnv> env_;
    std::unique_ptr<LibvirtHypervisor> hypervisor_;
    // Before the registry, which reports to it: destroyed after it.
    std::unique_ptr<PowerIntentKeeper> intents_;
    std::unique_ptr<DomainRegistry> registry_;
    std::unique_ptr<ControlServer> control_;
    SystemWallClock wall_clock_;
    std::unique_ptr<BranchCounterSource> branch_counters_;
    std::unique_ptr<EventLoop::Timer> policy_timer_;
    std::unique_ptr<HostPolicyEngine> host_policies_;
    std::unique_ptr<EnergySampler> energy_;
    std::unique_ptr<PeriodicTask> energy_timer_;  // after energy_: destroyed first
    AgentTelemetry telemetry_;
    std::chrono::steady_clock::time_point reconcile_began_{};
    std::unique_ptr<PeriodicTask> metrics_timer_;  // agent.metrics_textfile
    UniqueFd signal_fd_;
    EventLoop::Registration signal_watch_;
    bool ready_ = false;
    bool stopping_ = false;
};

}  // namespace vmpower

#include "agent.h"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>

#include <csignal>
#include <cstring>

#include "agent_metrics.h"
#include "atomic_file.h"
#include "config_reload.h"
#include "control_commands.h"
#include "domain_run.h"
#include "fd_budget.h"
#include "fd_limit.h"
#include "log.h"
#include "perf_branch_counters.h"
#include "restore_journal.h"
#include "sysfs.h"

namespace vmpower {

static_assert(FdBudget::kSysfsKeptOpen >= Sysfs::kMaxKeptOpen,
              "the fd budget reserves every cpufreq file the agent keeps open");

Agent::Agent(AgentOptions options, Config config, PowerControl& power)
    : options_(std::move(options)),
      config_(std::move(config)),
      rules_(std::move(config_.rules)),
      power_(power) {
    EventLoop::registerImpl();
    retries_ = std::make_unique<RetryScheduler>(clock_);
    if (config_.agent.verify_channel_peer) {
        peers_ = std::make_unique<QemuPidPeerVerifier>(config_.agent.qemu_pid_dir);
    } else {
        LOG(Agent).warn("verify_channel_peer is off: channels are not checked against QEMU's pid");
        peers_ = std::make_unique<TrustingPeerVerifier>();
    }
    EnergySettings energy;
    energy.sysfs_root = config_.agent.sysfs_root;
    energy.proc_root = config_.agent.proc_root;
    energy.qemu_pid_dir = config_.agent.qemu_pid_dir;
    energy.state_file = config_.agent.state_dir / "energy.json";
    energy.interval = config_.agent.energy_interval;
    energy.guest_period = config_.agent.energy_guest_period;
    energy.idle = config_.agent.energy_idle;
    energy_ = std::make_unique<EnergySampler>(std::move(energy), clock_);
    hypervisor_ = std::make_unique<LibvirtHypervisor>(options_.uri, *retries_, *this);
    intents_ = std::make_unique<PowerIntentKeeper>(*hypervisor_, power_, *retries_);
    // The intents.json store: what the last run held comes back when each
    // domain is found running in the same run (docs/operations.md).
    intents_->keepInStateDir(
        config_.agent.state_dir, currentBootId(config_.agent.proc_root),
        [pid_dir = config_.agent.qemu_pid_dir, proc = config_.agent.proc_root](const Domain& d) {
            return readDomainRun(d.id, d.identity.name, pid_dir, proc);
        });
    // The engine before the handler, which sends it PKT_POLICY: it finds
    // guests in the registry (built after the handler) only when asked.
    policy_timer_ = std::make_unique<EventLoop::Timer>([this] { host_policies_->onTimer(); });
    if (options_.branch_counters == nullptr) {
        branch_counters_ = std::make_unique<PerfBranchCounters>(config_.agent.qemu_pid_dir,
                                                                config_.agent.proc_root);
    }
    HostPolicyEdges edges{
        &clock_, options_.wall_clock ? options_.wall_clock : &wall_clock_,
        options_.traffic ? options_.traffic : hypervisor_.get(),
        options_.branch_counters ? options_.branch_counters : branch_counters_.get()};
    host_policies_ = std::make_unique<HostPolicyEngine>(
        power_, sharing_, rules_,
        [this](std::string_view uuid) -> const GuestIdentity* {
            const Domain* d = registry_->find(uuid);
            return d ? &d->identity : nullptr;
        },
        [this](std::optional<std::chrono::milliseconds> wait) {
            if (wait) {
                policy_timer_->arm(*wait);
            } else {
                policy_timer_->cancel();
            }
        },
        edges);
    handler_ = std::make_unique<RequestHandler>(
        power_, options_.request_clock ? *options_.request_clock : clock_, sharing_, rules_,
        RequestHandlerLinks{host_policies_.get(), intents_.get(), energy_.get()});
    env_ = std::make_unique<ChannelEnv>(ChannelEnv{*retries_, *handler_, *peers_,
                                                   config_.agent.reply_queue_records, &fd_budget_,
                                                   &telemetry_.peer_check_refusals});
    registry_ = std::make_unique<DomainRegistry>(*env_, *hypervisor_, power_, intents_.get());
    registry_->setHooks({[this](bool ok) { reconciled(ok); },
                         [this](std::string_view uuid) { domainSettled(uuid); }});
    sharing_.forwardTo(registry_.get());
    host_policies_->onChange([this](std::string_view uuid) { hostPolicyChanged(uuid); });
    intents_->setHostPolicySink(host_policies_.get());
}

Agent::~Agent() {
    // The state file keeps what is held now (a pending write is done
    // first): letting go of the domains below drops no kept intent.
    intents_->stopping();
    host_policies_->onChange(nullptr);
    intents_->setHostPolicySink(nullptr);
    control_.reset();
    // The policies' holds go with each domain's release below. The
    // handler's pointer to the engine is not used after this: the channels
    // closed below read no more records (no loop runs here).
    host_policies_.reset();
    // The channels closing now stay in the fd store: a restart adopts them.
    if (fd_store_) fd_store_->agentStopping();
    registry_->removeAll();  // closes channels, releases every VM's requests
    hypervisor_.reset();
}

void Agent::start() {
    fd_budget_.setLimit(FdBudget::channelsFor(raiseFdLimit()));
    if (options_.notify_systemd) {
        // Before the first reconcile opens a channel: it may adopt a socket
        // the previous run kept.
        fd_store_ = std::make_unique<FdStore>(NotifySocket::fromEnvironment(), fd_budget_);
        env_->keeper = fd_store_.get();
    }
    if (options_.handle_signals) setUpSignals();
    if (options_.control_socket) {
        ControlServerOptions o;
        o.path = config_.agent.control_socket;
        o.groups = {config_.agent.control_operator_gid, config_.agent.control_reader_gid};
        control_ = std::make_unique<ControlServer>(
            *retries_, std::move(o),
            [this](const nlohmann::json& request, ControlAccess access, ControlReply& later) {
                return serve(request, access, later);
            });
    }
    hypervisor_->start();
    if (energy_->available()) {
        // One sample of the running VMs' QEMU threads per interval.
        energy_timer_ = std::make_unique<PeriodicTask>(
            "energy", LogCategory::Energy, spdlog::level::err, config_.agent.energy_interval,
            [this] {
                std::vector<WatchedDomain> watched;
                watched.reserve(registry_->domains().size());
                for (const auto& [uuid, d] : registry_->domains())
                    watched.push_back({uuid, d->identity.name, d->vcpus.vcpuCount()});
                energy_->sample(watched);
            });
        energy_timer_->start(config_.agent.energy_interval);
    }
    if (!config_.agent.metrics_textfile.empty()) {
        // A failed write is tried again at the next interval (node_exporter
        // keeps reading the last file).
        metrics_timer_ = std::make_unique<PeriodicTask>(
            "metrics", LogCategory::Control, spdlog::level::warn, config_.agent.metrics_interval,
            [this] {
                replaceStateFile(config_.agent.metrics_textfile, renderAgentMetrics(*this));
            });
        metrics_timer_->start(std::chrono::milliseconds(0));
    }
}

void Agent::runUntilStopped() {
    while (!stopping_) EventLoop::runOnce();
    LOG(Agent).info("stopping");
    if (options_.notify_systemd) sd_notify(0, "STOPPING=1");
}

void Agent::setUpSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    // Signals arrive as readable data in the loop: no work in a handler.
    signal_fd_.reset(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!signal_fd_) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
    signal_watch_ = EventLoop::watch(signal_fd_.get(), EPOLLIN, [this](std::uint32_t) {
        signalfd_siginfo info{};
        while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
            if (info.ssi_signo == SIGHUP) {
                (void)reload();  // a refusal is logged by reloadConfig
            } else {
                LOG(Agent).info("signal {}: stopping", strsignal(static_cast<int>(info.ssi_signo)));
                stopping_ = true;
            }
        }
    });
}

Verdict Agent::reload() {
    if (options_.config_path.empty()) {
        LOG(Agent).warn("reload: no config file given at start");
        return Verdict::refused("no config file was given at start");
    }
    ReloadResult r = reloadConfig(options_.config_path, config_);
    if (!r.ok) {
        ++telemetry_.reloads_refused;
        return Verdict::refused(r.error);
    }
    ++telemetry_.reloads_applied;
    setAccessRules(std::move(config_.rules));  // held in rules_ alone
    // Both were checked when read (the file by loadConfig, the option by main).
    (void)applyLogLevels(options_.log_level.empty() ? config_.agent.log_level : options_.log_level);
    return Verdict::accepted();
}

void Agent::setAccessRules(std::shared_ptr<const AccessRules> rules) {
    rules_.replace(std::move(rules));  // channels see it at their next record
    registry_->onPolicyChanged();
    host_policies_->rulesReplaced();
    for (const auto& [uuid, d] : registry_->domains()) host_policies_->settle(uuid);
}

void Agent::setQueryOverride(std::string_view name, std::string_view uuid, bool queries) {
    setAccessRules(
        std::make_shared<const AccessRules>(rules_->withQueryOverride(name, uuid, queries)));
}

PowerVerdict Agent::applyOperatorRequest(unsigned cpu, PowerAction action) {
    return power_.apply(Requester::operatorOverride(cpu), CpuSet{cpu}, action, {});
}

bool Agent::releaseOperatorRequest(unsigned cpu) {
    const Requester op = Requester::operatorOverride(cpu);
    if (power_.heldBy(op, cpu) == HeldRequest{}) return false;
    power_.releaseHolder(op);
    return true;
}

AsyncCall Agent::pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus,
                         DoneVerdict done) {
    return hypervisor_->pinVcpu(name, vcpu, pcpus, std::move(done));
}

AsyncCall Agent::lookupDefined(std::string_view name_or_uuid,
                               Done<std::optional<DomainName>> done) {
    return hypervisor_->lookupDefined(name_or_uuid, std::move(done));
}

bool Agent::setChannelEnabled(std::string_view uuid, unsigned index, bool enabled) {
    return registry_->setChannelEnabled(uuid, index, enabled);
}

std::vector<DomainView> Agent::domains() const {
    std::vector<DomainView> out;
    out.reserve(registry_->domains().size());
    for (const auto& [uuid, d] : registry_->domains()) out.push_back(domainView(*d));
    return out;
}

std::optional<DomainView> Agent::domain(std::string_view name_or_uuid) const {
    if (const Domain* d = registry_->find(name_or_uuid)) return domainView(*d);
    for (const auto& [uuid, d] : registry_->domains()) {
        if (d->identity.name == name_or_uuid) return domainView(*d);
    }
    return std::nullopt;
}

HypervisorStatus Agent::hypervisorStatus() const {
    return {hypervisor_->uri(), hypervisor_->connected(), hypervisor_->connectCount()};
}

nlohmann::json Agent::state() const {
    return agentStateJson(*this);
}

std::optional<nlohmann::json> Agent::serve(const nlohmann::json& request, ControlAccess access,
                                           ControlReply& later) {
    // Most commands answer at once; one that asks libvirt answers from the
    // worker's answer, through the client's ControlReply (a no-op once the
    // client is gone). The AsyncCall lives as long as the answer's callback.
    struct Pending {
        std::optional<nlohmann::json> now;
        std::optional<ControlReply> reply;
        AsyncCall call;
    };
    auto pending = std::make_shared<Pending>();
    pending->call = startControlCommand(*this, request, access, [pending](nlohmann::json a) {
        if (pending->reply) {
            (*pending->reply)(std::move(a));
        } else {
            pending->now = std::move(a);
        }
    });
    if (pending->now) return std::move(pending->now);
    pending->reply.emplace(std::move(later));
    return std::nullopt;
}

nlohmann::json Agent::control(const nlohmann::json& request, ControlAccess access) {
    std::optional<nlohmann::json> answer;
    AsyncCall later = startControlCommand(*this, request, access,
                                          [&answer](nlohmann::json a) { answer = std::move(a); });
    while (!answer && later.pending()) EventLoop::runOnce();
    return answer ? *answer : nlohmann::json{{"ok", false}, {"error", "no answer"}};
}

void Agent::onConnected() {
    reconcile_began_ = std::chrono::steady_clock::now();
    registry_->reconcile();  // reconciled() hears the answer
}

void Agent::reconciled(bool ok) {
    ++telemetry_.reconciles;
    telemetry_.last_reconcile_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - reconcile_began_).count();
    // Reconciling parsed every domain's XML: hand the freed heap back to the
    // kernel instead of keeping the peak as RSS (once per reconcile).
    ::malloc_trim(0);
    if (!ok) return;  // the close callback will retry
    host_policies_->forgetMissing();
    for (const auto& [uuid, d] : registry_->domains()) settleHostPolicy(*d);
    intents_->settled();
    if (!ready_) {
        if (fd_store_) fd_store_->dropUnadopted();  // every running domain's channel took its own
        ready_ = true;
        if (options_.notify_systemd) sd_notify(0, "READY=1\nSTATUS=watching libvirt domains");
    }
}

void Agent::onDomainEvent(std::string_view uuid, const DomainEvent& event) {
    auto name = domainEventName(event);
    auto it = telemetry_.events.find(name);
    if (it == telemetry_.events.end()) it = telemetry_.events.emplace(std::string(name), 0).first;
    ++it->second;
    // A write of its intent put off for a job goes when the job may be over.
    if (std::holds_alternative<JobEnded>(event) || std::holds_alternative<DomainChanged>(event))
        intents_->jobEnded(uuid);
    registry_->onEvent(uuid, event);  // domainSettled() hears what it did
}

void Agent::domainSettled(std::string_view uuid) {
    // A stopped domain's policy goes; a changed one's follows its pinning.
    if (const Domain* d = registry_->find(uuid)) {
        host_policies_->refresh(uuid);
        settleHostPolicy(*d);
    } else {
        host_policies_->forget(uuid);
    }
}

Verdict Agent::setHostPolicy(std::string_view uuid, HostPolicy policy) {
    const Domain* d = registry_->find(uuid);
    if (d == nullptr) return Verdict::refused("the domain is not running");
    return host_policies_->set(d->identity, std::move(policy), PolicyOrigin::Operator);
}

bool Agent::removeHostPolicy(std::string_view uuid) {
    return host_policies_->removeHostPolicy(uuid);
}

std::optional<HostPolicyView> Agent::hostPolicy(std::string_view uuid) const {
    return host_policies_->view(uuid);
}

void Agent::settleHostPolicy(const Domain& d) {
    host_policies_->settle(d.identity.uuid);
}

void Agent::hostPolicyChanged(std::string_view uuid) {
    const auto now = host_policies_->view(uuid);
    intents_->hostPolicyChanged(uuid, now ? &*now : nullptr);
}

}  // namespace vmpower

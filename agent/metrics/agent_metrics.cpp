#include "agent_metrics.h"

#include <array>
#include <chrono>
#include <optional>
#include <set>
#include <tuple>

#include "domain_events.h"
#include "energy_sampler.h"
#include "prometheus_text.h"
#include "request_counters.h"

#ifndef VMPOWER_VERSION
#define VMPOWER_VERSION "unknown"  // meson passes the project's version
#endif

namespace vmpower {

namespace {

double seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

double seconds(std::chrono::nanoseconds d) {
    return std::chrono::duration<double>(d).count();
}

// The one loop's turns (agent/common/loop_turns.h): every guest waits while
// one runs.
void loopFamilies(PrometheusText& t, const LoopTurns& turns) {
    t.family("vmpower_loop_turn_seconds", MetricType::Histogram,
             "How long each turn of vmpowerd's one loop worked, from epoll_wait's return to the "
             "end of its callbacks; every guest and the control socket wait meanwhile (above "
             "0.01 is worth a look).");
    std::array<double, LoopTurns::kBounds.size()> bounds{};
    for (std::size_t i = 0; i < bounds.size(); ++i) bounds[i] = seconds(LoopTurns::kBounds[i]);
    t.histogram({}, bounds, turns.counts, seconds(turns.total));
    t.family("vmpower_loop_turn_max_seconds", MetricType::Gauge,
             "The longest turn of the loop since vmpowerd started.");
    t.sample(seconds(turns.longest));
}

// The power intents written to libvirt (docs/architecture.md, "The power
// intent"): a write is put off, never waited for, while a job runs.
void intentFamilies(PrometheusText& t, const IntentWriteStats& w) {
    t.family("vmpower_intent_writes_total", MetricType::Counter,
             "Power intents written to (or removed from) the domains' live metadata.");
    t.sample(static_cast<double>(w.written));
    t.family("vmpower_intent_writes_deferred_total", MetricType::Counter,
             "Power intent writes put off because a job (a migration, a dump) ran on the "
             "domain; each is written when the job has ended.");
    t.sample(static_cast<double>(w.busy));
}

void agentFamilies(PrometheusText& t, const AgentView& a) {
    const AgentTelemetry& tm = a.telemetry();
    t.family("vmpower_build_info", MetricType::Gauge, "vmpowerd's version (always 1).");
    t.sample({{"version", VMPOWER_VERSION}}, 1);
    t.family("vmpower_start_time_seconds", MetricType::Gauge,
             "When vmpowerd started, seconds since the Unix epoch.");
    t.sample(seconds(tm.started));
    t.family("vmpower_config_reloads_total", MetricType::Counter,
             "Config reloads (SIGHUP, vmpowerctl reload) by result.");
    t.sample({{"result", "applied"}}, static_cast<double>(tm.reloads_applied));
    t.sample({{"result", "refused"}}, static_cast<double>(tm.reloads_refused));

    HypervisorStatus h = a.hypervisorStatus();
    t.family("vmpower_libvirt_connected", MetricType::Gauge, "1 while connected to libvirt.");
    t.sample({{"uri", h.uri}}, h.connected ? 1 : 0);
    t.family("vmpower_libvirt_connects_total", MetricType::Counter,
             "Connections made to libvirt (the first and every reconnect).");
    t.sample({{"uri", h.uri}}, static_cast<double>(h.connects));
    t.family("vmpower_libvirt_events_total", MetricType::Counter,
             "libvirt domain events handled, by type.");
    for (std::string_view type : kDomainEventNames) {
        auto it = tm.events.find(type);
        t.sample({{"type", std::string(type)}},
                 it == tm.events.end() ? 0 : static_cast<double>(it->second));
    }
    t.family("vmpower_reconciles_total", MetricType::Counter,
             "Full re-reads of every running domain (start, reconnect).");
    t.sample(static_cast<double>(tm.reconciles));
    t.family("vmpower_reconcile_duration_seconds", MetricType::Gauge,
             "How long the last full re-read took.");
    t.sample(tm.last_reconcile_seconds);
    loopFamilies(t, a.loopTurns());
    intentFamilies(t, a.intentWrites());
}

// fn(labels vm, uuid, channel; the channel's stats) for every channel.
template <typename Fn>
void eachChannel(const std::vector<DomainView>& domains, Fn fn) {
    for (const DomainView& d : domains) {
        for (const ChannelView& ch : d.channels) {
            fn(
                MetricLabels{
                    {"vm", d.name}, {"uuid", d.uuid}, {"channel", std::to_string(ch.index)}},
                ch.stats);
        }
    }
}

// One sample per non-zero entry of `counts`, labelled `key` = name(index).
template <std::size_t N, typename Name>
void nonZero(PrometheusText& t, const MetricLabels& labels, std::string_view key,
             const std::array<std::uint64_t, N>& counts, Name name) {
    for (std::size_t i = 0; i < N; ++i) {
        if (counts[i] == 0) continue;
        MetricLabels l = labels;
        l.emplace_back(key, std::string(name(i)));
        t.sample(l, static_cast<double>(counts[i]));
    }
}

void channelFamilies(PrometheusText& t, const AgentView& a,
                     const std::vector<DomainView>& domains) {
    std::array<std::size_t, kChannelStates.size()> by_state{};
    for (const DomainView& d : domains) {
        for (const ChannelView& ch : d.channels) by_state[static_cast<std::size_t>(ch.state)]++;
    }
    t.family("vmpower_domains", MetricType::Gauge, "Running domains vmpowerd tracks.");
    t.sample(static_cast<double>(domains.size()));
    t.family("vmpower_channels", MetricType::Gauge, "Power channels by state.");
    for (auto s : kChannelStates) {
        t.sample({{"state", channelStateName(s)}},
                 static_cast<double>(by_state[static_cast<std::size_t>(s)]));
    }
    t.family("vmpower_peer_check_refusals_total", MetricType::Counter,
             "Channel sockets refused because their server is not the domain's QEMU.");
    t.sample(static_cast<double>(a.telemetry().peer_check_refusals));

    // Per channel, from the protocol's one list of statistics (with their
    // values in channel_statistics.h): one family at a time, every channel
    // in each.
    std::string_view current;
    for (std::size_t i = 0; i < kChannelCounters.size(); ++i) {
        const protocol::object::ChannelStatistic& c = protocol::object::kChannelStatistics[i];
        if (c.metric.empty()) continue;
        if (current != c.metric) {
            t.family(c.metric, MetricType::Counter, c.help);
            current = c.metric;
        }
        eachChannel(domains, [&](MetricLabels labels, const ChannelStats& s) {
            if (!c.result.empty()) labels.emplace_back("result", std::string(c.result));
            t.sample(labels, static_cast<double>(kChannelCounters[i].value(s)));
        });
    }

    // By command and by reason: only what a channel has seen (a VM's rows
    // stay few; the names are the protocol's, request_counters.h).
    t.family("vmpower_requests_total", MetricType::Counter,
             "Whole records read from the guest, by command (CPU_POWER by its unit's action).");
    eachChannel(domains, [&](const MetricLabels& labels, const ChannelStats& s) {
        nonZero(t, labels, "command", s.requests.by_command, commandSlotName);
    });
    t.family("vmpower_nacks_total", MetricType::Counter,
             "NACKs sent to the guest, by reason (they sum to replies_total{result=\"nack\"}).");
    eachChannel(domains, [&](const MetricLabels& labels, const ChannelStats& s) {
        nonZero(t, labels, "reason", s.requests.nacks_by_reason,
                [](std::size_t i) { return nackReasonName(static_cast<NackReason>(i)); });
    });
}

void cpuFamilies(PrometheusText& t, const AgentView& a) {
    const PowerControl& power = a.power();
    // Every CPU the arbiter knows (those with cpufreq), once.
    std::vector<std::pair<unsigned, PowerDescription>> cpus;
    for (unsigned cpu = 0; cpu <= CpuSet::kMaxCpu; ++cpu) {
        if (auto d = power.describe(cpu)) cpus.emplace_back(cpu, std::move(*d));
    }
    auto perCpu = [&](const char* name, MetricType type, const char* help, auto value) {
        t.family(name, type, help);
        for (const auto& [cpu, d] : cpus) {
            if (auto v = value(cpu, d)) t.sample({{"cpu", std::to_string(cpu)}}, *v);
        }
    };
    perCpu("vmpower_cpu_frequency_hertz", MetricType::Gauge,
           "The CPU's current frequency (scaling_cur_freq).",
           [&](unsigned cpu, const PowerDescription&) -> std::optional<double> {
               auto khz = power.currentFrequency(cpu);
               return khz ? std::optional<double>(*khz * 1000.0) : std::nullopt;
           });
    perCpu("vmpower_cpu_held_frequency_hertz", MetricType::Gauge,
           "The frequency vmpowerd holds the CPU's policy at (absent: as found).",
           [](unsigned, const PowerDescription& d) -> std::optional<double> {
               return d.applied_khz ? std::optional<double>(*d.applied_khz * 1000.0) : std::nullopt;
           });
    perCpu("vmpower_cpu_holders", MetricType::Gauge,
           "Requests held on the CPU's policy (VMs' vCPUs and the operator).",
           [](unsigned, const PowerDescription& d) -> std::optional<double> {
               return static_cast<double>(d.holds.size());
           });
    perCpu("vmpower_cpu_turbo", MetricType::Gauge,
           "The turbo switch covering the CPU as vmpowerd set it (absent: as found).",
           [](unsigned, const PowerDescription& d) -> std::optional<double> {
               return d.turbo_applied ? std::optional<double>(*d.turbo_applied ? 1 : 0)
                                      : std::nullopt;
           });

    t.family("vmpower_cpufreq_policy_stakeholders", MetricType::Gauge,
             "Running domains that may run on the cpufreq policy's CPUs.");
    std::set<std::string> seen;
    for (const auto& [cpu, d] : cpus) {
        if (seen.insert(d.policy).second) {
            t.sample({{"policy", d.policy}, {"cpus", d.cpus.toString()}},
                     static_cast<double>(d.stakeholders.size()));
        }
    }
    t.family("vmpower_cpufreq_policy_host_cpus", MetricType::Gauge,
             "The host's own CPUs among the cpufreq policy's (never slowed by a VM).");
    seen.clear();
    for (const auto& [cpu, d] : cpus) {
        if (seen.insert(d.policy).second) {
            t.sample({{"policy", d.policy}, {"cpus", d.cpus.toString()}},
                     static_cast<double>(d.host_cpus.count()));
        }
    }
}

// Per-VM energy (docs/energy.md); no family at all when there is no
// powercap tree: unavailable is not zero.
void energyFamilies(PrometheusText& t, const AgentView& a, const std::vector<DomainView>& domains) {
    const EnergySampler* e = a.energy();
    if (e == nullptr || !e->available()) return;
    std::vector<std::tuple<std::string, std::string, VmEnergyReading>> vms;
    for (const DomainView& d : domains) {
        if (auto r = e->reading(d.uuid)) vms.emplace_back(d.name, d.uuid, *r);
    }
    t.family("vmpower_vm_energy_joules_total", MetricType::Counter,
             "Energy attributed to the VM since vmpowerd began watching it (RAPL package share).");
    for (const auto& [name, uuid, r] : vms) {
        t.sample({{"vm", name}, {"uuid", uuid}}, static_cast<double>(r.energy_uj) / 1e6);
    }
    t.family("vmpower_vm_power_watts", MetricType::Gauge,
             "The VM's average power over the last energy interval.");
    for (const auto& [name, uuid, r] : vms) {
        t.sample({{"vm", name}, {"uuid", uuid}}, static_cast<double>(r.power_mw) / 1000.0);
    }
    // agent.energy_idle: with vcpus the VMs' counters include their idle
    // share, shown apart here (docs/energy.md "Idle energy").
    t.family("vmpower_energy_idle_mode", MetricType::Gauge,
             "Who is given the energy no VM ran for (agent.energy_idle): 1 for the mode in use.");
    const EnergyIdle mode = e->accounting()->idle();
    for (EnergyIdle m : {EnergyIdle::Host, EnergyIdle::Vcpus})
        t.sample({{"mode", std::string(energyIdleName(m))}}, m == mode ? 1.0 : 0.0);
    t.family("vmpower_vm_idle_energy_joules_total", MetricType::Counter,
             "Of the VM's energy, its share of what no VM ran for (agent.energy_idle: vcpus; "
             "0 with host).");
    for (const auto& [name, uuid, r] : vms) {
        const VmEnergy* ve = e->accounting()->vm(uuid);
        t.sample({{"vm", name}, {"uuid", uuid}},
                 ve == nullptr ? 0.0 : static_cast<double>(ve->idle_uj) / 1e6);
    }
}

// TRAFFIC's statistics source (docs/policy.md "How TRAFFIC is measured").
void trafficFamilies(PrometheusText& t, const AgentView& a) {
    const std::optional<TrafficSamplingView> s = a.trafficSampling();
    if (!s) return;
    using Seconds = std::chrono::duration<double>;
    t.family("vmpower_traffic_sample_interval_seconds", MetricType::Gauge,
             "The interval between TRAFFIC's interface statistics samples now "
             "(stretched while the source is slow).");
    t.sample(Seconds(s->interval).count());
    t.family("vmpower_traffic_sample_duration_seconds", MetricType::Gauge,
             "How long the last interface statistics sample took (0: none yet).");
    t.sample(s->last_duration ? Seconds(*s->last_duration).count() : 0.0);
    t.family("vmpower_traffic_samples_total", MetricType::Counter,
             "Interface statistics samples answered.");
    t.sample(static_cast<double>(s->samples));
    t.family("vmpower_traffic_sample_failures_total", MetricType::Counter,
             "Interface statistics samples the hypervisor could not answer.");
    t.sample(static_cast<double>(s->failures));
}

}  // namespace

std::string renderAgentMetrics(const AgentView& agent) {
    const std::vector<DomainView> domains = agent.domains();  // one snapshot
    PrometheusText t;
    agentFamilies(t, agent);
    channelFamilies(t, agent, domains);
    cpuFamilies(t, agent);
    energyFamilies(t, agent, domains);
    trafficFamilies(t, agent);
    return t.text();
}

}  // namespace vmpower

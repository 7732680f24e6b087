#pragma once
// What the control room (agent/commands, agent/metrics) may read of a
// running agent: value snapshots of the domains and their channels, built
// by the daemon side (agent/core's DomainRegistry, agent/daemon's Agent)
// when asked, and the query side of the parts below. Nothing here is a
// live object of agent/core.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access_rules.h"
#include "channel_statistics.h"
#include "cpu_set.h"
#include "host_policy_engine.h"
#include "intent_record.h"
#include "loop_turns.h"
#include "power_control.h"
#include "vcpu_map.h"

namespace vmpower {

class EnergySampler;

struct ChannelView {
    unsigned index = 0;  // N of virtio.serial.port.poweragent.N
    std::string path;    // QEMU's socket
    std::string alias;
    ChannelState state = ChannelState::Closed;
    bool enabled = true;
    ChannelStats stats;
};

struct DomainView {
    std::string name;
    std::string uuid;
    int id = -1;
    VcpuMap vcpus;
    CpuSet emulator_pcpus;              // QEMU's own threads; empty when not pinned
    std::vector<std::string> problems;  // from the XML reader, last seen
    std::vector<ChannelView> channels;  // by poweragent index
};

struct HypervisorStatus {
    std::string uri;
    bool connected = false;
    std::uint64_t connects = 0;
};

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

class AgentView {
  public:
    // Running domains, by UUID.
    virtual std::vector<DomainView> domains() const = 0;
    // One running domain by name or UUID; nullopt: not running.
    virtual std::optional<DomainView> domain(std::string_view name_or_uuid) const = 0;
    virtual HypervisorStatus hypervisorStatus() const = 0;
    virtual bool ready() const = 0;                      // first reconcile done
    virtual const PowerControl& power() const = 0;       // its query side
    virtual const AccessRules& accessRules() const = 0;  // the one in force, overrides included
    // A running domain's power intent and where it came from; null: none kept.
    virtual const DomainIntentRecord* powerIntent(std::string_view uuid) const = 0;
    // Per-VM energy accounting; nullptr when the agent has none.
    virtual const EnergySampler* energy() const { return nullptr; }
    virtual const AgentTelemetry& telemetry() const = 0;
    virtual std::optional<HostPolicyView> hostPolicy(std::string_view uuid) const = 0;
    // How TRAFFIC's interface statistics are sampled (HostPolicyEngine's
    // trafficSampling()); nullopt: the agent has no host policy engine.
    virtual std::optional<TrafficSamplingView> trafficSampling() const { return std::nullopt; }
    // How long the loop's turns took (agent/core's EventLoop); none here.
    virtual LoopTurns loopTurns() const { return {}; }
    // The power intents' writes to the domains' metadata (agent/core's
    // IntentWriter); none here.
    virtual IntentWriteStats intentWrites() const { return {}; }

  protected:
    ~AgentView() = default;
};

}  // namespace vmpower

#pragma once
// The one in-memory PowerControl of the tests (unit tests, the request fuzz
// target, the channel tests): records every call, answers queries from
// maps, and refuses when told to.

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "power_control.h"

namespace vmpower::testing {

struct PowerCall {
    Requester who;
    CpuSet pcpus;
    PowerAction action;
    FrequencyLimits limits;
};

class FakePowerControl final : public PowerControl {
  public:
    PowerVerdict apply(const Requester& who, const CpuSet& pcpus, PowerAction action,
                       const FrequencyLimits& limits) override {
        calls.push_back({who, pcpus, action, limits});
        if (apply_result) return PowerVerdict{true, {}, affected, false};
        last_refusal[who.domainUuid()] = refusal;
        return PowerVerdict{false, refusal, {}, refusal_shared_hardware};
    }
    void setFootprint(std::string_view uuid, std::string_view, const CpuSet& cpus) override {
        footprints[std::string(uuid)] = cpus;
    }
    void release(std::string_view uuid) override {
        released.emplace_back(uuid);
        footprints.erase(std::string(uuid));
    }
    void releaseOutside(const Requester& who, const CpuSet& kept) override {
        released.push_back(who.domainUuid());
        released_holders.push_back({who, kept});
    }
    void releaseHolder(const Requester& who) override { releaseOutside(who, CpuSet{}); }
    std::optional<std::uint32_t> currentFrequency(unsigned pcpu) const override {
        auto it = khz.find(pcpu);
        if (it == khz.end()) return std::nullopt;
        return it->second;
    }
    std::span<const std::uint32_t> availableFrequencies(unsigned pcpu) const override {
        auto it = steps.find(pcpu);
        return it == steps.end() ? std::span<const std::uint32_t>{} : it->second;
    }
    bool turboCapable(unsigned pcpu) const override { return turbo.contains(pcpu); }
    bool highPriority(unsigned pcpu) const override { return priority.contains(pcpu); }
    std::optional<PowerDescription> describe(unsigned) const override { return std::nullopt; }
    HeldRequest heldBy(const Requester& who, unsigned pcpu) const override {
        auto it = held.find({who.domainUuid(), who.number(), pcpu});
        return it == held.end() ? HeldRequest{} : it->second;
    }
    CpuSet hostCpus() const override { return host; }
    std::string lastRefusal(std::string_view uuid) const override {
        auto it = last_refusal.find(std::string(uuid));
        return it == last_refusal.end() ? std::string() : it->second;
    }

    std::vector<PowerCall> calls;
    std::vector<std::string> released;
    struct HolderRelease {
        Requester who;
        CpuSet kept;  // empty: every hold of `who` (releaseHolder)
    };
    std::vector<HolderRelease> released_holders;
    std::map<std::string, CpuSet> footprints;  // by uuid, as last reported
    bool apply_result = true;
    std::string refusal = "refused by the fake";  // when apply_result is false
    bool refusal_shared_hardware = false;         // the verdict's flag when refused
    std::vector<std::string> affected;            // reported with every ACK
    std::map<std::string, std::string> last_refusal;
    std::map<unsigned, std::uint32_t> khz;
    // What heldBy answers, by (uuid, vcpu, pcpu); tests set it.
    std::map<std::tuple<std::string, unsigned, unsigned>, HeldRequest> held;
    std::map<unsigned, std::vector<std::uint32_t>> steps;  // availableFrequencies
    std::set<unsigned> turbo, priority;
    CpuSet host;
};

}  // namespace vmpower::testing

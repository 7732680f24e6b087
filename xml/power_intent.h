#pragma once
// A VM's power intent as it travels with the domain: an element in the
// domain's live <metadata>, in vmpower's intent namespace. The agent writes
// it (virDomainSetMetadata, live) after a guest's level changes; a live
// migration carries it; the destination's agent reads it and applies it
// again under its own policy. Anyone with libvirt access can write metadata,
// so the reader trusts nothing: every surprise is a quoted problem and the
// entry (or, when the whole element is unusable, the intent) is ignored.
//
//   <vmpower-intent:intent xmlns:vmpower-intent="urn:vmpower:intent:1">
//     <vmpower-intent:vcpu id="0" level="max" khz="2600000" turbo="on"/>
//     <vmpower-intent:vcpu id="1" level="step" from-top="2" of="10" khz="2200000"/>
//   </vmpower-intent:intent>
//
// level: max | min | step (from-top steps below the top of a range of `of`
// steps, common/level_position.h). khz: what the level was where it was
// written; for people, never applied. turbo: on | off, absent: no wish.
// Unknown elements and attributes are reported and skipped.
//
// The VM's guest- or operator-set host policy travels too, its fields
// (common/host_policy.h) as attributes:
//     <vmpower-intent:host-policy set-by="guest" type="workload" vcpus="0-1"
//                                 workload="high"/>
// set-by: guest | operator. A rule's policy is not written: the
// destination's own rule gives its default. docs/operations.md shows it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_limits.h"
#include "host_policy.h"
#include "level_position.h"

namespace vmpower {

inline constexpr std::string_view kPowerIntentNamespace = "urn:vmpower:intent:1";
// The prefix libvirt gives the element (virDomainSetMetadata's key).
inline constexpr std::string_view kPowerIntentPrefix = "vmpower-intent";

struct VcpuIntent {
    unsigned vcpu = 0;
    std::optional<LevelPosition> level;
    std::optional<std::uint32_t> khz;  // informational
    std::optional<bool> turbo;
    bool operator==(const VcpuIntent&) const = default;
};

struct IntentHostPolicy {
    HostPolicy policy;     // as hostPolicyFromFields reads it (vcpus ascending)
    bool set_by_guest = true;  // else by the operator
    bool operator==(const IntentHostPolicy&) const = default;
};

struct PowerIntent {
    std::vector<VcpuIntent> vcpus;  // ascending vCPU, each at most once
    std::optional<IntentHostPolicy> host_policy;
    bool empty() const { return vcpus.empty() && !host_policy; }
    bool operator==(const PowerIntent&) const = default;
};

struct PowerIntentReading {
    std::optional<PowerIntent> intent;  // nullopt: none in the XML, or none usable
    std::vector<std::string> problems;  // bounded, outside text quoted
};

// Cheap: could the domain XML hold an intent at all (its namespace appears)?
bool mentionsPowerIntent(std::string_view domain_xml);

// The intent element in a domain's XML (found by namespace, whatever the
// prefix). vCPU ids are bounded by kMaxVcpus here; against the domain's
// own vCPUs by whoever applies it.
PowerIntentReading readPowerIntent(std::string_view domain_xml);

// The element as virDomainSetMetadata takes it: no namespace (libvirt adds
// it with kPowerIntentPrefix). "" for an empty intent: remove the element.
std::string powerIntentElement(const PowerIntent& intent);

}  // namespace vmpower

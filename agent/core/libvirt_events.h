#pragma once
// libvirt's domain events in the registry's words (domain_events.h): the
// only place that knows libvirt's event numbers and TUNABLE's parameter
// names. Pure functions, so they are tested without a connection.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain_events.h"

namespace vmpower {

// LIFECYCLE: STOPPED -> DomainStopped, STARTED -> DomainStarted, SHUTDOWN ->
// nothing (STOPPED follows when QEMU exits), anything else -> DomainChanged;
// `migrated` set for the _MIGRATED details of STARTED, SUSPENDED, RESUMED and
// STOPPED.
std::optional<DomainEvent> lifecycleEvent(int event, int detail);

using TunableParams = std::vector<std::pair<std::string, std::string>>;  // string params only

// TUNABLE: "cputune.vcpupin<N>" = cpulist -> VcpuRepinned,
// "cputune.emulatorpin" = cpulist -> EmulatorRepinned, "cputune.iothreadpin<N>"
// -> DomainChanged (the live XML has the IOThread's new set); other keys are not
// ours. A pinning we cannot read is appended to *rejected as key='value'.
std::vector<DomainEvent> tunableEvents(const TunableParams& params,
                                       std::vector<std::string>* rejected);

}  // namespace vmpower

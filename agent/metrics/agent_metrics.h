#pragma once
// What vmpowerd exposes to a monitoring system, in Prometheus' text format:
// the metric names, their help and labels are defined here and only here
// (docs/metrics.md lists them). Built from the agent's read-only views
// on demand (vmpowerctl metrics, the textfile timer): no work on the
// request path beyond the counters channels already keep.

#include <string>

#include "agent_view.h"

namespace vmpower {

std::string renderAgentMetrics(const AgentView& agent);

}  // namespace vmpower

#pragma once
// Prometheus' text exposition format 0.0.4, written: one family per metric
// name (# HELP, # TYPE, then its samples), label values and help text
// escaped as the format says. What to expose is agent_metrics.h's job.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vmpower {

using MetricLabels = std::vector<std::pair<std::string_view, std::string>>;

enum class MetricType { Counter, Gauge, Histogram };

class PrometheusText {
  public:
    // Starts a family; its samples follow until the next family. `name`
    // must match [a-zA-Z_:][a-zA-Z0-9_:]* (the agent's own constant names).
    void family(std::string_view name, MetricType type, std::string_view help);
    // A sample of the current family.
    void sample(const MetricLabels& labels, double value);
    void sample(double value) { sample({}, value); }
    // A Histogram family's samples: `counts` per bucket (not cumulative),
    // one per upper bound plus the last for +Inf; written as the format's
    // cumulative _bucket{le=...} lines, then _sum and _count.
    void histogram(const MetricLabels& labels, std::span<const double> upper_bounds,
                   std::span<const std::uint64_t> counts, double sum);

    const std::string& text() const { return out_; }

  private:
    void line(std::string_view suffix, const MetricLabels& labels, double value);

    std::string out_;
    std::string family_;
};

// The format's escaping: label values \ " and newline; help \ and newline.
std::string escapeLabelValue(std::string_view v);
std::string escapeHelp(std::string_view v);
// Integers as integers (counters up to 2^53 exact), others shortest
// round-trip, NaN and infinities as the format spells them.
std::string formatSampleValue(double v);

}  // namespace vmpower

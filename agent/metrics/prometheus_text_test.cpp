#include "prometheus_text.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>

namespace vmpower {
namespace {

TEST(PrometheusText, WritesFamiliesWithHelpTypeAndSamples) {
    PrometheusText t;
    t.family("vmpower_requests_total", MetricType::Counter, "Records read.");
    t.sample({{"vm", "dpdk1"}, {"channel", "0"}}, 42);
    t.sample({{"vm", "dpdk2"}, {"channel", "1"}}, 0);
    t.family("vmpower_libvirt_connected", MetricType::Gauge, "1 when connected.");
    t.sample(1);
    EXPECT_EQ(t.text(),
              "# HELP vmpower_requests_total Records read.\n"
              "# TYPE vmpower_requests_total counter\n"
              "vmpower_requests_total{vm=\"dpdk1\",channel=\"0\"} 42\n"
              "vmpower_requests_total{vm=\"dpdk2\",channel=\"1\"} 0\n"
              "# HELP vmpower_libvirt_connected 1 when connected.\n"
              "# TYPE vmpower_libvirt_connected gauge\n"
              "vmpower_libvirt_connected 1\n");
}

TEST(PrometheusText, WritesAHistogramCumulativeWithSumAndCount) {
    PrometheusText t;
    t.family("vmpower_loop_turn_seconds", MetricType::Histogram, "Turns.");
    const std::array<double, 2> bounds{0.001, 0.01};
    const std::array<std::uint64_t, 3> counts{3, 0, 2};
    t.histogram({}, bounds, counts, 0.5);
    EXPECT_EQ(t.text(),
              "# HELP vmpower_loop_turn_seconds Turns.\n"
              "# TYPE vmpower_loop_turn_seconds histogram\n"
              "vmpower_loop_turn_seconds_bucket{le=\"0.001\"} 3\n"
              "vmpower_loop_turn_seconds_bucket{le=\"0.01\"} 3\n"
              "vmpower_loop_turn_seconds_bucket{le=\"+Inf\"} 5\n"
              "vmpower_loop_turn_seconds_sum 0.5\n"
              "vmpower_loop_turn_seconds_count 5\n");
}

TEST(PrometheusText, EscapesWhatADomainNameMayHold) {
    // Domain names come from whoever defines domains: never break the format.
    EXPECT_EQ(escapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    EXPECT_EQ(escapeHelp("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");
    PrometheusText t;
    t.family("m", MetricType::Gauge, "h");
    t.sample({{"vm", "evil\"} 1\nfake_metric 9"}}, 1);
    EXPECT_EQ(t.text().find("\nfake_metric"), std::string::npos) << t.text();
}

TEST(PrometheusText, FormatsValuesAsTheFormatSpellsThem) {
    EXPECT_EQ(formatSampleValue(0), "0");
    EXPECT_EQ(formatSampleValue(3400000000.0), "3400000000");
    EXPECT_EQ(formatSampleValue(18446744073709551615.0), "18446744073709551616");  // 2^64, exact
    EXPECT_EQ(formatSampleValue(0.25), "0.25");
    EXPECT_EQ(formatSampleValue(-2), "-2");
    EXPECT_EQ(formatSampleValue(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(formatSampleValue(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(formatSampleValue(std::nan("")), "NaN");
}

TEST(PrometheusText, RefusesWhatWouldBeAProgrammingError) {
    PrometheusText t;
    EXPECT_THROW(t.sample(1), std::logic_error);
    EXPECT_THROW(t.family("9bad", MetricType::Gauge, ""), std::logic_error);
    EXPECT_THROW(t.family("bad-name", MetricType::Gauge, ""), std::logic_error);
}

}  // namespace
}  // namespace vmpower

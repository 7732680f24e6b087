#include "log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace vmpower {
namespace {

// Captures what the default logger's sinks receive, as main's stderr would.
struct Capture {
    std::ostringstream out;
    std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
    Capture() {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
        sink->set_pattern("%l %n: %v");
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("", sink));
    }
    ~Capture() {
        applyLogLevels(LogLevels{});
        spdlog::set_default_logger(previous);
    }
};

TEST(Log, ACategoryWritesThroughTheDefaultSinksWithItsName) {
    Capture c;
    LOG(Cpufreq).warn("policy{} refused", 2);
    EXPECT_EQ(c.out.str(), "warning cpufreq: policy2 refused\n");
}

TEST(Log, ACategoryFollowsTheDefaultLevelUnlessItHasItsOwn) {
    Capture c;
    auto levels = parseLogLevels("warn,cpufreq=debug");
    ASSERT_TRUE(levels) << levels.reason();
    applyLogLevels(*levels);
    LOG(Cpufreq).debug("kept");
    LOG(Channels).info("dropped");
    LOG(Channels).warn("kept too");
    EXPECT_EQ(c.out.str(), "debug cpufreq: kept\nwarning channels: kept too\n");
    // A test or main that sets the default level directly moves the others.
    spdlog::set_level(spdlog::level::off);
    LOG(Channels).error("dropped");
    EXPECT_EQ(c.out.str(), "debug cpufreq: kept\nwarning channels: kept too\n");
}

TEST(Log, ParsesLevelsAndRefusesWhatItCannotRead) {
    auto only = parseLogLevels("debug");
    ASSERT_TRUE(only);
    EXPECT_EQ(only->base, spdlog::level::debug);
    auto own = parseLogLevels("energy=trace,libvirt=off");
    ASSERT_TRUE(own);
    EXPECT_EQ(own->base, spdlog::level::info);
    EXPECT_EQ(own->own[static_cast<std::size_t>(LogCategory::Energy)], spdlog::level::trace);
    EXPECT_EQ(own->own[static_cast<std::size_t>(LogCategory::Libvirt)], spdlog::level::off);

    EXPECT_EQ(parseLogLevels("loud").reason(),
              "'loud' is not one of trace, debug, info, warn, error, critical, off");
    EXPECT_EQ(parseLogLevels("info,gpu=debug").reason(),
              "category 'gpu' is not one of agent, libvirt, domains, channels, requests, "
              "cpufreq, hostpolicy, energy, control, config");
    EXPECT_FALSE(parseLogLevels("info,debug"));
    EXPECT_FALSE(parseLogLevels(""));
    EXPECT_FALSE(parseLogLevels("info,"));
}

TEST(Log, EveryCategoryHasADistinctName) {
    for (std::size_t i = 0; i < kLogCategories; ++i) {
        for (std::size_t j = i + 1; j < kLogCategories; ++j) {
            EXPECT_NE(logCategoryName(static_cast<LogCategory>(i)),
                      logCategoryName(static_cast<LogCategory>(j)));
        }
    }
}

}  // namespace
}  // namespace vmpower

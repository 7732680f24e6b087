#include "log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <mutex>

namespace vmpower {

namespace {

constexpr std::array<std::string_view, kLogCategories> kNames = {
    "agent",   "libvirt",    "domains", "channels", "requests",
    "cpufreq", "hostpolicy", "energy",  "control",  "config",
};

constexpr std::array<std::string_view, 7> kLevelNames = {"trace", "debug",    "info", "warn",
                                                         "error", "critical", "off"};

// Writes what a category logs through whatever sinks the default logger has
// now, so a test's capture sink or main's stderr sink sees every category.
class DefaultLoggerSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        for (auto& s : spdlog::default_logger_raw()->sinks()) {
            if (s->should_log(msg.level)) s->log(msg);
        }
    }
    void flush_() override { spdlog::default_logger_raw()->flush(); }
};

// A category's own level plus one (0: follows the default logger's).
std::array<std::atomic<int>, kLogCategories> g_own{};

std::optional<spdlog::level::level_enum> levelFromName(std::string_view name) {
    for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
        if (kLevelNames[i] == name) return static_cast<spdlog::level::level_enum>(i);
    }
    return std::nullopt;
}

std::optional<LogCategory> categoryFromName(std::string_view name) {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == name) return static_cast<LogCategory>(i);
    }
    return std::nullopt;
}

std::string oneOf(std::string_view what, auto names) {
    std::string text = std::string(what) + " is not one of";
    const char* sep = " ";
    for (auto n : names) {
        text += sep;
        text += n;
        sep = ", ";
    }
    return text;
}

}  // namespace

std::string_view logCategoryName(LogCategory c) {
    return kNames[static_cast<std::size_t>(c)];
}

spdlog::logger& logger(LogCategory c) {
    static const auto loggers = [] {
        std::array<std::shared_ptr<spdlog::logger>, kLogCategories> l;
        for (std::size_t i = 0; i < kLogCategories; ++i) {
            l[i] = std::make_shared<spdlog::logger>(std::string(kNames[i]),
                                                    std::make_shared<DefaultLoggerSink>());
        }
        return l;
    }();
    const auto i = static_cast<std::size_t>(c);
    const int own = g_own[i].load(std::memory_order_relaxed);
    loggers[i]->set_level(own > 0 ? static_cast<spdlog::level::level_enum>(own - 1)
                                  : spdlog::default_logger_raw()->level());
    return *loggers[i];
}

Checked<LogLevels> parseLogLevels(std::string_view spec) {
    LogLevels levels;
    if (spec.empty()) return Checked<LogLevels>::refused("empty log level");
    bool base_seen = false;
    while (true) {
        const std::size_t comma = spec.find(',');
        const std::string_view part = spec.substr(0, comma);
        const std::size_t eq = part.find('=');
        if (eq == std::string_view::npos) {
            const auto level = levelFromName(part);
            if (!level)
                return Checked<LogLevels>::refused(
                    oneOf("'" + std::string(part) + "'", kLevelNames));
            if (base_seen)
                return Checked<LogLevels>::refused("two levels without a category in '" +
                                                   std::string(spec) + "'");
            base_seen = true;
            levels.base = *level;
        } else {
            const std::string_view name = part.substr(0, eq);
            const std::string_view level_name = part.substr(eq + 1);
            const auto category = categoryFromName(name);
            if (!category)
                return Checked<LogLevels>::refused(
                    oneOf("category '" + std::string(name) + "'", kNames));
            const auto level = levelFromName(level_name);
            if (!level)
                return Checked<LogLevels>::refused(
                    oneOf("'" + std::string(level_name) + "'", kLevelNames));
            levels.own[static_cast<std::size_t>(*category)] = *level;
        }
        if (comma == std::string_view::npos) break;
        spec.remove_prefix(comma + 1);
    }
    return levels;
}

Verdict applyLogLevels(std::string_view spec) {
    const Checked<LogLevels> levels = parseLogLevels(spec);
    if (levels) applyLogLevels(*levels);
    return levels.verdict();
}

void applyLogLevels(const LogLevels& levels) {
    spdlog::set_level(levels.base);
    for (std::size_t i = 0; i < kLogCategories; ++i) {
        g_own[i].store(levels.own[i] ? static_cast<int>(*levels.own[i]) + 1 : 0);
    }
}

}  // namespace vmpower

#pragma once
// Logging by component (libcamera's LOG(Category)): each part of the agent
// logs through its own category, so an operator can raise one component's
// level (`--log-level info,cpufreq=debug`) without drowning in the others.
// Every category writes through the default logger's sinks (stderr under
// systemd, a capture sink in tests) with its name in the line; a category
// without a level of its own follows the default logger's level.

#include <spdlog/logger.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "verdict.h"

namespace vmpower {

enum class LogCategory : std::size_t {
    Agent,       // start, stop, signals, reload, the daemon's wiring
    Libvirt,     // the connection and its events
    Domains,     // the registry: domains, pins, power intents
    Channels,    // channel sockets, the peer check, reply queues
    Requests,    // guests' records and their decisions
    Cpufreq,     // the arbiter, backends, the restore journal
    HostPolicy,  // TIME, WORKLOAD, TRAFFIC, BRANCH_RATIO
    Energy,      // powercap counters and per-VM accounting
    Control,     // the control socket and its commands, metrics
    Config,      // the YAML file
};
inline constexpr std::size_t kLogCategories = 10;

// "cpufreq", ...: the names used on the command line, in the config and in
// each log line.
std::string_view logCategoryName(LogCategory c);

// The category's logger, its level brought in line with the levels in force.
spdlog::logger& logger(LogCategory c);

// The levels in force: one for every category, and any category's own.
struct LogLevels {
    spdlog::level::level_enum base = spdlog::level::info;
    std::array<std::optional<spdlog::level::level_enum>, kLogCategories> own{};
    bool operator==(const LogLevels&) const = default;
};

// "LEVEL", "LEVEL,CATEGORY=LEVEL,..." or "CATEGORY=LEVEL,..." (the base
// level then stays info). LEVEL: trace debug info warn error critical off.
// Refused with a reason naming the bad part; nothing is applied then.
Checked<LogLevels> parseLogLevels(std::string_view spec);

// Sets the default logger's level to `levels.base` and each category's own.
void applyLogLevels(const LogLevels& levels);
// parseLogLevels, then applyLogLevels; refused: nothing changed.
Verdict applyLogLevels(std::string_view spec);

}  // namespace vmpower

// LOG(Cpufreq).warn("{}: ...", path) — a category of vmpower::LogCategory.
#define LOG(category) ::vmpower::logger(::vmpower::LogCategory::category)

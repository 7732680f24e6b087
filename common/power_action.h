#pragma once
// What a guest (or the operator) asks of a host CPU, and the names of those
// actions as operators and policy files write them (DPDK's CLI words): the
// one table every parser, log line and the control commands use.

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace vmpower {

enum class PowerAction { ScaleUp, ScaleDown, Max, Min, EnableTurbo, DisableTurbo };

inline constexpr std::array<std::pair<std::string_view, PowerAction>, 6> kPowerActionNames{{
    {"up", PowerAction::ScaleUp},
    {"down", PowerAction::ScaleDown},
    {"min", PowerAction::Min},
    {"max", PowerAction::Max},
    {"enable_turbo", PowerAction::EnableTurbo},
    {"disable_turbo", PowerAction::DisableTurbo},
}};

constexpr std::string_view powerActionName(PowerAction a) {
    for (const auto& [name, action] : kPowerActionNames) {
        if (action == a) return name;
    }
    return "?";
}

constexpr std::optional<PowerAction> parsePowerAction(std::string_view word) {
    for (const auto& [name, action] : kPowerActionNames) {
        if (name == word) return action;
    }
    return std::nullopt;
}

}  // namespace vmpower

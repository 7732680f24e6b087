#pragma once
// The names of power actions, as operators and policy files write them
// (DPDK's CLI words): the one table every parser and log line uses.

#include <array>
#include <optional>
#include <string_view>
#include <utility>

#include "power_control.h"

namespace vmpower {

inline constexpr std::array<std::pair<std::string_view, PowerAction>, 6> kPowerActionNames{{
    {"up", PowerAction::ScaleUp},
    {"down", PowerAction::ScaleDown},
    {"max", PowerAction::Max},
    {"min", PowerAction::Min},
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

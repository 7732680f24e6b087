#pragma once
// What a guest (or the operator) asks of a host CPU, and the names of those
// actions as operators and policy files write them (DPDK's CLI words): the
// one table every parser, log line and the control commands use.

#include <optional>
#include <string_view>

#include "name_table.h"

namespace vmpower {

// Middle: the middle step of the allowed frequencies (a host policy's
// WORKLOAD MEDIUM and TRAFFIC's middle band; no guest unit maps to it).
enum class PowerAction { ScaleUp, ScaleDown, Max, Min, EnableTurbo, DisableTurbo, Middle };

inline constexpr NameTable<PowerAction, 7> kPowerActionNames{{
    {"up", PowerAction::ScaleUp},
    {"down", PowerAction::ScaleDown},
    {"min", PowerAction::Min},
    {"max", PowerAction::Max},
    {"middle", PowerAction::Middle},
    {"enable_turbo", PowerAction::EnableTurbo},
    {"disable_turbo", PowerAction::DisableTurbo},
}};

constexpr std::string_view powerActionName(PowerAction a) {
    return nameIn(kPowerActionNames, a);
}

constexpr std::optional<PowerAction> parsePowerAction(std::string_view word) {
    return valueIn(kPowerActionNames, word);
}

}  // namespace vmpower

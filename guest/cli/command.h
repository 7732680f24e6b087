#pragma once
// One vmpower-guest command, as typed at the vm_power(guest)> prompt, on
// standard input or (joined by the CLI) on the command line.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "vmpower/protocol.h"

namespace vmpower::guest {

enum class Action { SetCpuFreq, QueryFreq, QueryCaps, QueryEnergy, Help, Quit, Nothing };

struct Command {
    Action action = Action::Nothing;
    std::optional<unsigned> core;  // nullopt: "all" (queries only)
    vmpower_unit unit = VMPOWER_SCALE_UP;
};

struct ParseError {
    std::string message;
};

// Accepts the prompt's words (set_cpu_freq, query_cpu_freq, query_cpu_caps)
// and the CLI's (set-cpu-freq, query-freq, query-caps), help and quit. An
// empty or comment (#) line is Action::Nothing.
std::variant<Command, ParseError> parseLine(std::string_view line);

// "up" -> VMPOWER_SCALE_UP ...; nullopt for an unknown word.
std::optional<vmpower_unit> unitFromName(std::string_view name);
std::string_view unitName(vmpower_unit unit);

// The prompt's help text.
std::string_view helpText();

}  // namespace vmpower::guest

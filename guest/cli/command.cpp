#include "command.h"

#include <array>
#include <charconv>
#include <utility>
#include <vector>

namespace vmpower::guest {
namespace {

constexpr std::array<std::pair<std::string_view, vmpower_unit>, 6> kUnits{{
    {"up", VMPOWER_SCALE_UP},
    {"down", VMPOWER_SCALE_DOWN},
    {"max", VMPOWER_SCALE_MAX},
    {"min", VMPOWER_SCALE_MIN},
    {"enable_turbo", VMPOWER_ENABLE_TURBO},
    {"disable_turbo", VMPOWER_DISABLE_TURBO},
}};

struct Verb {
    std::string_view prompt_name, cli_name;
    Action action;
    std::size_t args;  // words after the verb
};

constexpr std::array<Verb, 6> kVerbs{{
    {"set_cpu_freq", "set-cpu-freq", Action::SetCpuFreq, 2},
    {"query_cpu_freq", "query-freq", Action::QueryFreq, 1},
    {"query_cpu_caps", "query-caps", Action::QueryCaps, 1},
    {"query_energy", "energy", Action::QueryEnergy, 0},
    {"help", "help", Action::Help, 0},
    {"quit", "quit", Action::Quit, 0},
}};

std::vector<std::string_view> split(std::string_view line) {
    std::vector<std::string_view> words;
    constexpr std::string_view kSpace = " \t\r\n";
    for (std::size_t pos = line.find_first_not_of(kSpace); pos != std::string_view::npos;
         pos = line.find_first_not_of(kSpace, pos)) {
        std::size_t end = line.find_first_of(kSpace, pos);
        if (end == std::string_view::npos) end = line.size();
        words.push_back(line.substr(pos, end - pos));
        pos = end;
    }
    return words;
}

std::optional<unsigned> parseCore(std::string_view word) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (ec != std::errc{} || ptr != word.data() + word.size()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<vmpower_unit> unitFromName(std::string_view name) {
    for (const auto& [word, unit] : kUnits)
        if (word == name) return unit;
    return std::nullopt;
}

std::string_view unitName(vmpower_unit unit) {
    for (const auto& [word, u] : kUnits)
        if (u == unit) return word;
    return "?";
}

std::variant<Command, ParseError> parseLine(std::string_view line) {
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    auto words = split(line);
    if (words.empty()) return Command{};

    const Verb* verb = nullptr;
    for (const auto& v : kVerbs)
        if (words[0] == v.prompt_name || words[0] == v.cli_name) verb = &v;
    if (!verb) return ParseError{"unknown command '" + std::string(words[0]) + "' (try help)"};
    if (words.size() != verb->args + 1)
        return ParseError{"wrong number of arguments for " + std::string(words[0]) + " (try help)"};

    Command cmd;
    cmd.action = verb->action;
    if (verb->args == 0) return cmd;
    bool query = verb->action != Action::SetCpuFreq;
    if (!(query && words[1] == "all")) {
        cmd.core = parseCore(words[1]);
        if (!cmd.core)
            return ParseError{"'" + std::string(words[1]) + "' is not a core number" +
                              (query ? " or all" : "")};
        if (query && *cmd.core >= VMPOWER_MAX_VCPU_PER_VM)
            return ParseError{"queries cover cores 0-7 (the reply holds 8 vCPUs)"};
    }
    if (!query) {
        auto unit = unitFromName(words[2]);
        if (!unit)
            return ParseError{"'" + std::string(words[2]) +
                              "' is not up|down|min|max|enable_turbo|disable_turbo"};
        cmd.unit = *unit;
    }
    return cmd;
}

std::string_view helpText() {
    return "commands:\n"
           "  set_cpu_freq {core_num} up|down|min|max|enable_turbo|disable_turbo\n"
           "  query_cpu_freq {core_num}|all\n"
           "  query_cpu_caps {core_num}|all\n"
           "  query_energy          (this VM's energy, as a vmpower host accounts it)\n"
           "  help\n"
           "  quit\n";
}

}  // namespace vmpower::guest

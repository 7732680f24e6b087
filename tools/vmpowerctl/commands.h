#pragma once
// vmpowerctl's commands: a table of name -> handler that turns the words an
// operator typed into control requests and the answers into text (or JSON).
// DPDK vm_power_manager's names (set_cpu_freq, ...) are accepted as aliases.

#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vmpower::ctl {

// Exit statuses: 0 ok, 1 the agent refused, 2 cannot reach it / usage error.
enum ExitStatus : int { kExitOk = 0, kExitRefused = 1, kExitUnreachable = 2, kExitUsage = 2 };

// One request to the agent; throws ControlError when it cannot be reached.
using AgentCall = std::function<nlohmann::json(const nlohmann::json& request)>;

struct Invocation {
    AgentCall agent;
    std::ostream& out;
    std::ostream& err;
    bool json = false;  // print the agent's answers as JSON
};

struct CtlCommand {
    std::string_view name;   // ours; DPDK's is the same with '_' for '-'
    std::string_view alias;  // another name, "" if none
    bool dpdk;               // DPDK's vm_power_manager has it too
    std::string_view args;   // usage, e.g. "VM VCPU CPULIST"
    std::string_view help;
    std::size_t min_args, max_args;
    int (*run)(Invocation& inv, const std::vector<std::string>& args);
};

std::span<const CtlCommand> commandTable();
// By name, alias or DPDK name; nullptr if unknown.
const CtlCommand* findCommand(std::string_view name);

// words[0] is the command. Never throws: errors go to inv.err, the status
// is returned.
int runCommand(const std::vector<std::string>& words, Invocation& inv);

void printHelp(std::ostream& out);
void printUsage(std::ostream& out, const CtlCommand& c);

}  // namespace vmpower::ctl

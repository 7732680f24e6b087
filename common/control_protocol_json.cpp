// Prints the control protocol (control_protocol.h) as JSON: the build
// writes it to control_protocol.json, which the Python tests read
// (tests/libvirt/vmptest.py) so that they spell every command and key as
// the C++ does.
#include <iostream>
#include <nlohmann/json.hpp>

#include "control_protocol.h"

namespace {

nlohmann::json words(vmpower::protocol::Keys keys) {
    nlohmann::json out = nlohmann::json::array();
    for (auto k : keys) out.push_back(k);
    return out;
}

}  // namespace

int main() {
    namespace p = vmpower::protocol;
    nlohmann::json commands = nlohmann::json::object();
    for (const auto& c : p::kCommands) {
        commands[std::string(c.name)] = {{"read_only", c.read_only},
                                         {"args", words(c.args)},
                                         {"optional", words(c.optional)},
                                         {"reply", words(c.reply)}};
    }
    // An old name is a request the agent answers like its command.
    for (const auto& a : p::kAliases)
        commands[std::string(a.alias)] = commands[std::string(a.name)];
    nlohmann::json statistics = nlohmann::json::array();
    for (const auto& s : p::object::kChannelStatistics) statistics.push_back(s.key);
    nlohmann::json out = {
        {"commands", commands},
        {"objects",
         {{"channel", words(p::object::kChannel)},
          {"domain", words(p::object::kDomain)},
          {"vcpu", words(p::object::kVcpu)},
          {"rule", words(p::object::kRule)}}},
        {"channel_statistics", statistics},
    };
    std::cout << out.dump(2) << '\n';
    return 0;
}

#pragma once
// The control commands' arguments and answers (agent/commands only): every
// argument comes from outside and is checked here with an error an
// operator can act on.

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "agent_operations.h"

namespace vmpower::control {

using json = nlohmann::json;

// A bad argument: answered {"ok": false, "error": "<cmd>: <what>"}.
class ArgError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

json ok();
json error(const std::string& msg);

const json& requiredArg(const json& req, std::string_view key);
std::string stringArg(const json& req, std::string_view key);
unsigned numberArg(const json& req, std::string_view key, unsigned max, const char* what);
unsigned cpuArg(const json& req, std::string_view key);
std::string choiceArg(const json& req, std::string_view key,
                      std::initializer_list<std::string_view> choices);

// The running domain the request's "name" (a name or UUID) names.
DomainView runningDomain(const AgentOperations& a, const json& req);

}  // namespace vmpower::control

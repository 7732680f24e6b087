#include "command_args.h"

#include <cstdint>

#include "control_protocol.h"

namespace vmpower::control {

namespace key = protocol::key;

json ok() {
    return {{key::kOk, true}};
}

json error(const std::string& msg) {
    return {{key::kOk, false}, {key::kError, msg}};
}

namespace {
std::string quoted(std::string_view key) {
    return "'" + std::string(key) + "'";
}
}  // namespace

const json& requiredArg(const json& req, std::string_view key) {
    auto it = req.find(key);
    if (it == req.end()) throw ArgError(quoted(key) + " is required");
    return *it;
}

std::string stringArg(const json& req, std::string_view key) {
    const json& v = requiredArg(req, key);
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
        throw ArgError(quoted(key) + " must be a non-empty string");
    }
    return v.get<std::string>();
}

unsigned numberArg(const json& req, std::string_view key, unsigned max, const char* what) {
    const json& v = requiredArg(req, key);
    // Parsed text gives unsigned numbers, in-process callers signed ones.
    bool in_range = v.is_number_unsigned() ? v.get<std::uint64_t>() <= max
                    : v.is_number_integer()
                        ? v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= std::int64_t{max}
                        : false;
    if (!in_range) {
        throw ArgError(quoted(key) + " must be " + what + " (0-" + std::to_string(max) + ")");
    }
    return static_cast<unsigned>(v.get<std::uint64_t>());
}

unsigned cpuArg(const json& req, std::string_view key) {
    return numberArg(req, key, CpuSet::kMaxCpu, "a CPU number");
}

std::string choiceArg(const json& req, std::string_view key,
                      std::initializer_list<std::string_view> choices) {
    const json& v = requiredArg(req, key);
    std::string all;
    for (auto c : choices) {
        if (v.is_string() && v.get_ref<const std::string&>() == c) return std::string(c);
        all += all.empty() ? "" : "|";
        all += c;
    }
    throw ArgError(quoted(key) + " must be " + all);
}

DomainView runningDomain(const AgentOperations& a, const json& req) {
    std::string name = stringArg(req, key::kName);
    auto d = a.domain(name);
    if (!d) {
        throw ArgError("no running domain '" + name +
                       "' (vmpowerd tracks running domains only; is it started?)");
    }
    return std::move(*d);
}

}  // namespace vmpower::control

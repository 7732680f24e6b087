#pragma once
// Where vmpowerd's control socket is: --socket, else the config file's
// agent.control_socket, else the built-in default.

#include <filesystem>
#include <optional>
#include <string>

namespace vmpower::ctl {

inline constexpr const char* kDefaultConfig = "/etc/vmpower/vmpower.yaml";

struct SocketChoice {
    std::filesystem::path socket;
    std::string warning;  // non-empty: tell the operator (e.g. the config has errors)
};

// `config_given`: the operator named the file, so it must be readable.
// A config whose policy is invalid still says where the socket is (the agent
// may be running with its old policy): only agent.control_socket is read
// then. Throws UsageError when no answer is possible.
SocketChoice findControlSocket(const std::optional<std::filesystem::path>& socket,
                               const std::filesystem::path& config, bool config_given);

}  // namespace vmpower::ctl

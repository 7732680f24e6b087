#include "socket_path.h"

#include <yaml-cpp/yaml.h>

#include <system_error>

#include "args.h"
#include "config.h"

namespace vmpower::ctl {

SocketChoice findControlSocket(const std::optional<std::filesystem::path>& socket,
                               const std::filesystem::path& config, bool config_given) {
    if (socket) return {*socket, ""};
    std::error_code ec;
    if (!config_given && !std::filesystem::exists(config, ec)) {
        return {AgentSettings{}.control_socket, ""};
    }
    try {
        return {loadConfig(config).agent.control_socket, ""};
    } catch (const ConfigError& e) {
        // Fall back to the one key we need.
        try {
            YAML::Node root = YAML::LoadFile(config.string());
            YAML::Node s = root["agent"] ? root["agent"]["control_socket"] : YAML::Node();
            std::filesystem::path p = AgentSettings{}.control_socket;
            if (s) p = s.as<std::string>();
            return {p, std::string("warning: ") + e.what()};
        } catch (const std::exception&) {
            throw UsageError(e.what());
        }
    }
}

}  // namespace vmpower::ctl

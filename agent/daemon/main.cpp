// vmpowerd: wires the agent's libraries; all logic lives in them.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "agent.h"
#include "config.h"
#include "control_client.h"
#include "instance_lock.h"
#include "log.h"
#include "power_setup.h"

int main(int argc, char** argv) {
    CLI::App app{"vmpowerd: serves KVM guests' CPU frequency requests (DPDK compatible)"};
    std::string uri = "qemu:///system";
    std::string config_path = "/etc/vmpower/vmpower.yaml";
    std::string log_level;
    bool dump_state = false;
    app.add_option("-c,--connect", uri, "libvirt URI")->capture_default_str();
    app.add_option("--config", config_path, "YAML config and policy")->capture_default_str();
    app.add_option("--log-level", log_level,
                   "LEVEL or LEVEL,CATEGORY=LEVEL,... (overrides config)");
    app.add_flag("--dump-state", dump_state, "print the running agent's state (JSON) and exit");
    CLI11_PARSE(app, argc, argv);

    // stderr: journald takes it under systemd.
    spdlog::set_default_logger(spdlog::stderr_color_st("vmpowerd"));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v");

    vmpower::Config config;
    try {
        config = vmpower::loadConfig(config_path);
    } catch (const std::exception& e) {
        std::cerr << "vmpowerd: " << e.what() << "\n";
        return 2;
    }
    if (const vmpower::Verdict v =
            vmpower::applyLogLevels(log_level.empty() ? config.agent.log_level : log_level);
        !v) {
        std::cerr << "vmpowerd: --log-level: " << v.reason() << "\n";
        return 2;
    }

    if (dump_state) {
        try {
            auto answer = vmpower::controlRequest(config.agent.control_socket, {{"cmd", "state"}});
            std::cout << answer.dump(2) << "\n";
            return answer.value("ok", false) ? 0 : 1;
        } catch (const std::exception& e) {
            std::cerr << "vmpowerd: " << e.what() << "\n";
            return 2;
        }
    }

    try {
        // Before anything in the state directory is read or written.
        auto lock = vmpower::InstanceLock::take(config.agent.state_dir);
        if (!lock) {
            std::cerr << "vmpowerd: " << lock.reason() << "\n";
            return 1;
        }
        auto power = vmpower::makeArbiterFor(config.agent);
        {
            vmpower::AgentOptions options;
            options.uri = uri;
            options.config_path = config_path;
            options.log_level = log_level;
            vmpower::Agent agent(std::move(options), config, *power);
            agent.start();
            agent.runUntilStopped();
        }
        power->restoreAll();  // give every CPU back as we found it
        return 0;
    } catch (const std::exception& e) {
        LOG(Agent).critical("{}", e.what());
        return 1;
    }
}

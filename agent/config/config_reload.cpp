#include "config_reload.h"

#include <spdlog/spdlog.h>

#include "log.h"

namespace vmpower {

namespace {

std::vector<std::string> changedNeedingRestart(const AgentSettings& a, const AgentSettings& b) {
    std::vector<std::string> out;
    if (a.sysfs_root != b.sysfs_root) out.emplace_back("sysfs_root");
    if (a.state_dir != b.state_dir) out.emplace_back("state_dir");
    if (a.control_socket != b.control_socket) out.emplace_back("control_socket");
    if (a.cpufreq_driver != b.cpufreq_driver) out.emplace_back("cpufreq_driver");
    if (a.step_khz != b.step_khz) out.emplace_back("step_khz");
    if (a.verify_channel_peer != b.verify_channel_peer) out.emplace_back("verify_channel_peer");
    if (a.qemu_pid_dir != b.qemu_pid_dir) out.emplace_back("qemu_pid_dir");
    if (a.proc_root != b.proc_root) out.emplace_back("proc_root");
    if (a.energy_interval != b.energy_interval) out.emplace_back("energy_interval");
    if (a.energy_guest_period != b.energy_guest_period) out.emplace_back("energy_guest_period");
    if (a.energy_idle != b.energy_idle) out.emplace_back("energy_idle");
    if (a.reply_queue_records != b.reply_queue_records) out.emplace_back("reply_queue_records");
    if (a.host_cpus != b.host_cpus) out.emplace_back("host_cpus");
    if (a.metrics_textfile != b.metrics_textfile) out.emplace_back("metrics_textfile");
    if (a.metrics_interval != b.metrics_interval) out.emplace_back("metrics_interval");
    return out;
}

}  // namespace

ReloadResult applyReload(Config& current, Config fresh) {
    ReloadResult result;
    result.ok = true;
    result.restart_needed = changedNeedingRestart(current.agent, fresh.agent);
    current.rules = std::move(fresh.rules);
    current.agent.log_level = fresh.agent.log_level;
    return result;
}

ReloadResult reloadConfig(const std::filesystem::path& file, Config& current) {
    Config fresh;
    try {
        fresh = loadConfig(file);
    } catch (const ConfigError& e) {
        LOG(Config).error("config reload rejected, the previous policy stays in force: {}",
                          e.what());
        return ReloadResult{false, e.what(), {}};
    }
    ReloadResult result = applyReload(current, std::move(fresh));
    LOG(Config).info("config reloaded from {}: {} VM rule(s)", file.string(),
                     current.rules->rules().size());
    for (const auto& key : result.restart_needed) {
        LOG(Config).warn("config reload: agent.{} changed; it takes effect only after a restart",
                         key);
    }
    return result;
}

}  // namespace vmpower

#include "config.h"

#include <grp.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <charconv>
#include <optional>
#include <string_view>
#include <vector>

#include "atomic_file.h"
#include "log.h"
#include "vm_rule_parser.h"
#include "yaml_reader.h"

namespace vmpower {

namespace {

// A policy file is a few KiB; refuse to slurp something that is not one.
constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;

// A group by name (or number): only groups that exist, so a typo cannot
// silently lock operators out (or let nobody in).
gid_t group(const YamlReader& r, const YAML::Node& v, const std::string& key) {
    const std::string name = r.string(v, key);
    if (name.empty()) r.fail(v, key + ": expected a group name");
    std::vector<char> buf(16384);
    struct group grp {};
    struct group* found = nullptr;
    if (::getgrnam_r(name.c_str(), &grp, buf.data(), buf.size(), &found) == 0 && found) {
        return found->gr_gid;
    }
    gid_t gid = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), gid);
    if (ec == std::errc() && end == name.data() + name.size()) return gid;
    r.fail(v, key + ": no group '" + name + "' on this host");
}

std::filesystem::path path(const YamlReader& r, const YAML::Node& v, const std::string& key) {
    std::string s = r.string(v, key);
    if (s.empty()) r.fail(v, key + ": expected a path");
    return s;
}

// agent.energy_idle: who is given the energy no VM ran for.
EnergyIdle energyIdle(const YamlReader& r, const YAML::Node& v) {
    const auto idle = parseEnergyIdle(r.string(v, "energy_idle"));
    if (!idle)
        r.fail(v,
               "energy_idle: must be one of host, vcpus (who is given the energy no VM ran "
               "for)");
    return *idle;
}

AgentSettings parseAgent(const YamlReader& r, const YAML::Node& node) {
    AgentSettings a;
    r.forEachKey(
        node, "agent",
        {
            {"sysfs_root", [&](const YAML::Node& v) { a.sysfs_root = path(r, v, "sysfs_root"); }},
            {"state_dir", [&](const YAML::Node& v) { a.state_dir = path(r, v, "state_dir"); }},
            {"control_socket",
             [&](const YAML::Node& v) { a.control_socket = path(r, v, "control_socket"); }},
            {"cpufreq_driver",
             [&](const YAML::Node& v) { a.cpufreq_driver = r.string(v, "cpufreq_driver"); }},
            {"step_khz", [&](const YAML::Node& v) { a.step_khz = r.u32(v, "step_khz"); }},
            {"verify_channel_peer",
             [&](const YAML::Node& v) {
                 a.verify_channel_peer = r.boolean(v, "verify_channel_peer");
             }},
            {"qemu_pid_dir",
             [&](const YAML::Node& v) { a.qemu_pid_dir = path(r, v, "qemu_pid_dir"); }},
            {"proc_root", [&](const YAML::Node& v) { a.proc_root = path(r, v, "proc_root"); }},
            {"energy_interval",
             [&](const YAML::Node& v) {
                 const double s = r.nonNegative(v, "energy_interval");
                 if (s < 0.1 || s > 3600)
                     r.fail(v, "energy_interval: seconds between energy samples, 0.1 to 3600");
                 a.energy_interval = std::chrono::milliseconds(static_cast<long>(s * 1000));
             }},
            {"energy_guest_period",
             [&](const YAML::Node& v) {
                 const double s = r.nonNegative(v, "energy_guest_period");
                 if (s < 0.1 || s > 86400)
                     r.fail(v,
                            "energy_guest_period: seconds a guest's energy reading is held, "
                            "0.1 to 86400");
                 a.energy_guest_period = std::chrono::milliseconds(static_cast<long>(s * 1000));
             }},
            {"energy_idle", [&](const YAML::Node& v) { a.energy_idle = energyIdle(r, v); }},
            {"reply_queue_records",
             [&](const YAML::Node& v) {
                 a.reply_queue_records = r.u32(v, "reply_queue_records");
                 if (a.reply_queue_records == 0)
                     r.fail(v, "reply_queue_records: must be at least 1");
             }},
            {"control_operator_group",
             [&](const YAML::Node& v) {
                 a.control_operator_gid = group(r, v, "control_operator_group");
             }},
            {"control_reader_group",
             [&](const YAML::Node& v) {
                 a.control_reader_gid = group(r, v, "control_reader_group");
             }},
            {"host_cpus",
             [&](const YAML::Node& v) { a.host_cpus = r.cpuList(v, "host_cpus", "0-1,16-17"); }},
            {"metrics_textfile",
             [&](const YAML::Node& v) {
                 a.metrics_textfile = path(r, v, "metrics_textfile");
                 if (a.metrics_textfile.extension() != ".prom") {
                     r.fail(v, "metrics_textfile: node_exporter reads only *.prom files");
                 }
             }},
            {"metrics_interval",
             [&](const YAML::Node& v) {
                 const std::uint32_t s = r.u32(v, "metrics_interval");
                 if (s < 1 || s > 3600) r.fail(v, "metrics_interval: seconds, 1 to 3600");
                 a.metrics_interval = std::chrono::seconds(s);
             }},
            {"log_level",
             [&](const YAML::Node& v) {
                 a.log_level = r.string(v, "log_level");
                 if (const auto levels = parseLogLevels(a.log_level); !levels) {
                     r.fail(v, "log_level: " + levels.reason());
                 }
             }},
        });
    return a;
}

}  // namespace

Config parseConfig(std::string_view yaml, std::string_view name) {
    const YamlReader r{std::string(name)};
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        r.fail(e.mark, e.msg);
    }
    Config config;
    std::vector<AccessRule> rules;
    try {
        // An empty file is valid: default agent settings and no rules (every VM denied).
        if (!root.IsNull()) {
            r.forEachKey(
                root, "the top level",
                {
                    {"agent", [&](const YAML::Node& v) { config.agent = parseAgent(r, v); }},
                    {"vms",
                     [&](const YAML::Node& v) {
                         if (v.IsNull()) return;
                         if (!v.IsSequence()) r.fail(v, "vms: expected a list of rules");
                         for (std::size_t i = 0; i < v.size(); ++i)
                             rules.push_back(parseVmRule(r, v[i], i));
                     }},
                });
        }
    } catch (const YAML::Exception& e) {
        // The readers check types before every access; this is a last guard
        // so that nothing but a ConfigError leaves the parser.
        r.fail(e.mark, e.msg);
    }
    config.rules = std::make_shared<const AccessRules>(std::move(rules));
    return config;
}

Config loadConfig(const std::filesystem::path& file) {
    const std::string name = file.string();
    // Read through a link (configuration management keeps the file as one),
    // but only a regular file, opened without blocking: a FIFO there never
    // hangs a start or a reload.
    std::optional<std::string> text;
    try {
        text = readRegularFile(file, kMaxConfigBytes, FileLinks::Follow);
    } catch (const std::exception& e) {
        std::string_view why = e.what();
        if (why.starts_with(name + ": ")) why.remove_prefix(name.size() + 2);
        throw ConfigError(name + ":1:1: cannot read: " + std::string(why));
    }
    if (!text) throw ConfigError(name + ":1:1: cannot read: No such file or directory");
    return parseConfig(*text, name);
}

}  // namespace vmpower

#include "config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"

namespace vmpower {
namespace {

std::string errorOf(std::string_view yaml) {
    try {
        parseConfig(yaml, "vmpower.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(Config, EmptyFileDeniesEveryVm) {
    Config c = parseConfig("", "f");
    ASSERT_TRUE(c.rules);
    EXPECT_TRUE(c.rules->rules().empty());
    EXPECT_EQ(c.agent.sysfs_root, "/sys");
}

TEST(Config, HostCpusDefaultFromIsolatedOrExplicitlyNone) {
    EXPECT_FALSE(parseConfig("agent: {}\n", "f").agent.host_cpus);
    EXPECT_EQ(parseConfig("agent:\n  host_cpus: \"\"\n", "f").agent.host_cpus, CpuSet{});
}

TEST(Config, EveryKey) {
    Config c = parseConfig(R"(
agent:
  sysfs_root: /tmp/sys
  state_dir: /tmp/state
  control_socket: /tmp/s.sock
  cpufreq_driver: acpi-cpufreq
  step_khz: 100000
  verify_channel_peer: false
  qemu_pid_dir: /tmp/qemu
  proc_root: /tmp/proc
  energy_interval: 2.5
  energy_guest_period: 30
  energy_idle: vcpus
  reply_queue_records: 8
  log_level: debug
  host_cpus: 0-1,16-17
  metrics_textfile: /var/lib/node_exporter/vmpower.prom
  metrics_interval: 30
vms:
  - label: dpdk
    name: ["dpdk-*", "pktgen"]
    uuid: 6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e
    pcpus: 2-5,8
    commands: [up, down, max, min]
    policies: [workload, time]
    floor_khz: 800000
    ceiling_khz: 2400000
    rate: 50.5
    burst: 5
    policy_rate: 0.5
    policy_burst: 2
    physical: true
    queries: false
    energy: true
    multi_pcpu: false
    shared_pcpus: false
    record_format: legacy-16
)",
                           "f");
    EXPECT_EQ(c.agent.sysfs_root, "/tmp/sys");
    EXPECT_EQ(c.agent.state_dir, "/tmp/state");
    EXPECT_EQ(c.agent.control_socket, "/tmp/s.sock");
    EXPECT_EQ(c.agent.cpufreq_driver, "acpi-cpufreq");
    EXPECT_EQ(c.agent.step_khz, 100000U);
    EXPECT_FALSE(c.agent.verify_channel_peer);
    EXPECT_EQ(c.agent.qemu_pid_dir, "/tmp/qemu");
    EXPECT_EQ(c.agent.proc_root, "/tmp/proc");
    EXPECT_EQ(c.agent.energy_interval, std::chrono::milliseconds(2500));
    EXPECT_EQ(c.agent.energy_guest_period, std::chrono::seconds(30));
    EXPECT_EQ(c.agent.energy_idle, EnergyIdle::Vcpus);
    EXPECT_EQ(c.agent.reply_queue_records, 8U);
    EXPECT_EQ(c.agent.log_level, "debug");
    EXPECT_EQ(c.agent.host_cpus, (CpuSet{0, 1, 16, 17}));
    EXPECT_EQ(c.agent.metrics_textfile, "/var/lib/node_exporter/vmpower.prom");
    EXPECT_EQ(c.agent.metrics_interval, std::chrono::seconds(30));
    ASSERT_EQ(c.rules->rules().size(), 1U);
    const AccessRule& r = c.rules->rules()[0];
    EXPECT_EQ(r.name, "dpdk");
    EXPECT_EQ(r.name_globs, (std::vector<std::string>{"dpdk-*", "pktgen"}));
    EXPECT_EQ(r.uuids, (std::vector<std::string>{"6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e"}));
    EXPECT_EQ(r.allowed_pcpus, (CpuSet{2, 3, 4, 5, 8}));
    EXPECT_EQ(r.allowed_actions,
              (std::set<PowerAction>{PowerAction::ScaleUp, PowerAction::ScaleDown, PowerAction::Max,
                                     PowerAction::Min}));
    EXPECT_EQ(r.allowed_policies,
              (std::set<HostPolicyType>{HostPolicyType::Workload, HostPolicyType::Time}));
    EXPECT_EQ(r.limits.floor_khz, 800000U);
    EXPECT_EQ(r.limits.ceiling_khz, 2400000U);
    EXPECT_DOUBLE_EQ(r.requests_per_second, 50.5);
    EXPECT_EQ(r.burst, 5U);
    EXPECT_DOUBLE_EQ(r.policy_rate, 0.5);
    EXPECT_EQ(r.policy_burst, 2U);
    EXPECT_TRUE(r.physical_addressing);
    EXPECT_FALSE(r.queries);
    EXPECT_TRUE(r.energy);
    EXPECT_FALSE(r.multi_pcpu);
    EXPECT_FALSE(r.shared_pcpus);
    EXPECT_EQ(r.record_format, RecordFormat::Legacy16);
}

TEST(Config, EnergyIdleIsHostOrVcpus) {
    EXPECT_EQ(parseConfig("agent:\n  energy_idle: host\n", "f").agent.energy_idle,
              EnergyIdle::Host);
    EXPECT_EQ(parseConfig("agent:\n  energy_idle: vcpus\n", "f").agent.energy_idle,
              EnergyIdle::Vcpus);
    EXPECT_EQ(parseConfig("agent: {}\n", "f").agent.energy_idle, EnergyIdle::Host);
}

TEST(Config, ControlGroupsByNameOrNumber) {
    Config c =
        parseConfig("agent:\n  control_operator_group: root\n  control_reader_group: 4242\n", "f");
    EXPECT_EQ(c.agent.control_operator_gid, gid_t{0});
    EXPECT_EQ(c.agent.control_reader_gid, gid_t{4242});
    EXPECT_FALSE(parseConfig("", "f").agent.control_operator_gid) << "root only by default";
}

TEST(Config, RuleDefaults) {
    Config c = parseConfig("vms:\n  - name: \"*\"\n", "f");
    const AccessRule& r = c.rules->rules().at(0);
    EXPECT_EQ(r.name, "vms[0]");
    EXPECT_FALSE(r.allowed_pcpus);
    EXPECT_EQ(r.allowed_actions.size(), 6U);
    EXPECT_EQ(r.allowed_policies.size(), 4U);
    EXPECT_EQ(r.record_format, RecordFormat::Dpdk464);
    EXPECT_FALSE(r.energy) << "a guest learns its energy only when the operator allows it";
    EXPECT_DOUBLE_EQ(r.requests_per_second, 100);
    EXPECT_EQ(r.burst, 20U);
    EXPECT_DOUBLE_EQ(r.policy_rate, 1) << "PKT_POLICY: a smaller budget of its own";
    EXPECT_EQ(r.policy_burst, 4U);
    EXPECT_EQ(c.agent.energy_interval, std::chrono::milliseconds(1000));
    EXPECT_EQ(c.agent.energy_guest_period, std::chrono::seconds(10));
    EXPECT_EQ(c.agent.energy_idle, EnergyIdle::Host) << "idle energy is the host's by default";
    EXPECT_NE(c.rules->match("anything", ""), nullptr);
}

TEST(Config, HostPolicyPerRuleTakesTheSetPolicyFields) {
    Config c = parseConfig(R"(vms:
  - name: "dpdk-*"
    host_policy:
      type: time
      vcpus: [2, 0-1]
      busy_hours: 9-17
      quiet_hours: [0, 1, 2]
      traffic_hours: [18]
      middle_pps: 1000
      max_pps: 50000
      macs: ["52:54:00:12:34:56"]
  - name: "*"
)",
                           "f");
    const AccessRule& r = c.rules->rules().at(0);
    ASSERT_TRUE(r.host_policy);
    EXPECT_EQ(r.host_policy->type, HostPolicyType::Time);
    EXPECT_EQ(r.host_policy->vcpus, (std::vector<unsigned>{0, 1, 2}));
    EXPECT_EQ(r.host_policy->busy_hours.count(), 9u);
    EXPECT_TRUE(r.host_policy->busy_hours.test(17));
    EXPECT_EQ(r.host_policy->quiet_hours, HourSet(0b111));
    EXPECT_EQ(r.host_policy->traffic, (TrafficThresholds{0, 1000, 50000}));
    EXPECT_EQ(r.host_policy->macs, std::vector<std::uint64_t>{*parseMac("52:54:00:12:34:56")});
    EXPECT_FALSE(c.rules->rules().at(1).host_policy) << "none unless the rule says";
    // The same fields as set-policy's: read back from what they write.
    EXPECT_EQ(hostPolicyFromFields(hostPolicyFields(*r.host_policy)), *r.host_policy);
}

TEST(Config, EmptyCommandListDeniesCpuPower) {
    Config c = parseConfig("vms:\n  - name: quarantine\n    commands: []\n  - name: \"*\"\n", "f");
    EXPECT_TRUE(c.rules->match("quarantine", "")->allowed_actions.empty());
}

struct BadCase {
    const char* yaml;
    const char* expected;  // prefix of what() after the file name
};

class ConfigErrors : public testing::TestWithParam<BadCase> {};

TEST_P(ConfigErrors, ReportFileLineColumn) {
    std::string what = errorOf(GetParam().yaml);
    EXPECT_EQ(what.rfind(std::string("vmpower.yaml:") + GetParam().expected, 0), 0U) << what;
}

INSTANTIATE_TEST_SUITE_P(
    Config, ConfigErrors,
    testing::Values(
        BadCase{"agent:\n  sysfs_rot: /x\n", "2:3: unknown key 'sysfs_rot' in agent"},
        BadCase{"agnet: {}\n", "1:1: unknown key 'agnet'"},
        BadCase{"vms:\n  - name: a\n    colour: red\n", "3:5: unknown key 'colour' in vms[0]"},
        BadCase{"agent:\n  step_khz: fast\n", "2:13: step_khz: expected a non-negative integer"},
        BadCase{"agent:\n  step_khz: -1\n", "2:13: step_khz"},
        BadCase{"agent:\n  step_khz: 4294967296\n", "2:13: step_khz"},
        BadCase{"agent:\n  verify_channel_peer: maybe\n",
                "2:24: verify_channel_peer: expected true or false"},
        BadCase{"agent:\n  log_level: loud\n", "2:14: log_level"},
        BadCase{"agent:\n  reply_queue_records: 0\n", "2:24: reply_queue_records"},
        BadCase{"agent:\n  energy_interval: 0.01\n", "2:20: energy_interval: seconds between"},
        BadCase{"agent:\n  energy_interval: soon\n", "2:20: energy_interval"},
        BadCase{"agent:\n  energy_guest_period: 0.05\n",
                "2:24: energy_guest_period: seconds a guest's energy reading is held"},
        BadCase{"agent:\n  energy_guest_period: -3\n", "2:24: energy_guest_period"},
        BadCase{"agent:\n  energy_guest_period: [10]\n", "2:24: energy_guest_period"},
        BadCase{"agent:\n  energy_idle: vms\n",
                "2:16: energy_idle: must be one of host, vcpus (who is given the energy"},
        BadCase{"agent:\n  energy_idle: [host]\n", "2:16: energy_idle"},
        BadCase{"vms:\n  - name: a\n    energy: yes please\n",
                "3:13: energy: expected true or false"},
        BadCase{"agent: [1]\n", "1:8: agent: expected a mapping"},
        BadCase{"agent:\n  metrics_textfile: /x/vmpower.txt\n",
                "2:21: metrics_textfile: node_exporter reads only *.prom files"},
        BadCase{"agent:\n  metrics_interval: 0\n", "2:21: metrics_interval: seconds, 1 to 3600"},
        BadCase{"agent:\n  control_operator_group: no-such-group-here\n",
                "2:27: control_operator_group: no group 'no-such-group-here' on this host"},
        BadCase{"agent:\n  control_reader_group: \"\"\n",
                "2:25: control_reader_group: expected a group name"},
        BadCase{"agent:\n  host_cpus: 0-x\n", "2:14: host_cpus: '0-x' is not a cpulist"},
        BadCase{"vms:\n  - name: a\n    pcpus: 0-x\n", "3:12: pcpus: '0-x' is not a cpulist"},
        BadCase{"vms:\n  - name: a\n    pcpus: 3-1\n", "3:12: pcpus"},
        BadCase{"vms:\n  - name: a\n    pcpus: 0-9000\n", "3:12: pcpus"},
        BadCase{"vms:\n  - name: a\n    pcpus: \"\"\n", "3:12: pcpus: empty"},
        BadCase{"vms:\n  - name: a\n    floor_khz: 2000000\n    ceiling_khz: 1000000\n",
                "3:16: floor_khz 2000000 is above ceiling_khz 1000000"},
        BadCase{"vms:\n  - name: \"dpdk-[0-9\"\n", "2:11: name: unclosed '['"},
        BadCase{"vms:\n  - name: [ok, \"bad[\"]\n", "2:16: name: unclosed '['"},
        BadCase{"vms:\n  - name: \"\"\n", "2:11: name: empty name pattern"},
        BadCase{"vms:\n  - uuid: 1234\n", "2:11: uuid: '1234' is not a UUID"},
        BadCase{"vms:\n  - pcpus: 0-3\n", "2:5: vms[0]: needs 'name'"},
        BadCase{"vms:\n  - name: a\n    commands: [up, sideways]\n",
                "3:20: commands: unknown command 'sideways'"},
        BadCase{"vms:\n  - name: a\n    commands: up\n", "3:15: commands: expected a list"},
        BadCase{"vms:\n  - name: a\n    commands: [middle]\n",
                "3:16: commands: unknown command 'middle'"},
        BadCase{"vms:\n  - name: a\n    policies: [time, weather]\n",
                "3:22: policies: unknown policy 'weather' (known: traffic, time, workload, "
                "branch_ratio)"},
        BadCase{"vms:\n  - name: a\n    policies: time\n", "3:15: policies: expected a list"},
        BadCase{"vms:\n  - name: a\n    host_policy: workload\n",
                "3:18: host_policy: expected a mapping"},
        BadCase{"vms:\n  - name: a\n    host_policy: {type: workload}\n",
                "3:18: host_policy: 'vcpus' is required"},
        BadCase{"vms:\n  - name: a\n    host_policy:\n      type: time\n      vcpus: [0]\n"
                "      busy_hours: [9, 24]\n",
                "6:19: host_policy: 'busy_hours' must be a number from 0 to 23"},
        BadCase{"vms:\n  - name: a\n    host_policy: {type: workload, vcpus: 0-1, workload: max}\n",
                "3:57: host_policy: 'workload' must be one of high, medium, low"},
        BadCase{"vms:\n  - name: a\n    host_policy: {type: workload, vcpus: 0, colour: red}\n",
                "3:53: host_policy: \"colour\" is not a policy field (known: type, vcpus,"},
        BadCase{"vms:\n  - name: a\n    host_policy: {type: traffic, vcpus: [0, 0]}\n",
                "3:41: host_policy: 'vcpus' names vCPU 0 twice"},
        BadCase{"vms:\n  - name: a\n    host_policy: {type: traffic, vcpus: 0, macs: [nope]}\n",
                "3:50: host_policy: 'macs' holds \"nope\", not a MAC address"},
        BadCase{"vms:\n  - name: a\n    host_policy: {type: workload, vcpus: [[0]]}\n",
                "3:43: vcpus: expected a string"},
        BadCase{"vms:\n  - name: a\n    policies: [time]\n    host_policy: {type: workload, "
                "vcpus: 0}\n",
                "4:18: host_policy: type workload is not in the rule's policies:"},
        BadCase{"vms:\n  - name: a\n    rate: -3\n", "3:11: rate"},
        BadCase{"vms:\n  - name: a\n    rate: .nan\n", "3:11: rate"},
        BadCase{"vms:\n  - name: a\n    burst: 0\n", "3:12: burst: must be at least 1"},
        BadCase{"vms:\n  - name: a\n    policy_rate: -1\n",
                "3:18: policy_rate: expected a non-negative number, got '-1'"},
        BadCase{"vms:\n  - name: a\n    policy_rate: often\n", "3:18: policy_rate"},
        BadCase{"vms:\n  - name: a\n    policy_burst: 0\n",
                "3:19: policy_burst: must be at least 1"},
        BadCase{"vms:\n  - name: a\n    policy_burst: -4\n", "3:19: policy_burst"},
        BadCase{"vms:\n  - name: a\n    record_format: dpdk-456\n", "3:20: record_format"},
        BadCase{"vms:\n  - name: a\n    physical: [true]\n",
                "3:15: physical: expected true or false"},
        BadCase{"vms:\n  - name: a\n    name: b\n", "3:5: duplicate key 'name' in vms[0]"},
        BadCase{"vms: {name: a}\n", "1:6: vms: expected a list"},
        BadCase{"vms:\n  - name: *\n", "2:12: "},  // an alias, not a glob: quote it
        BadCase{"agent:\n  log_level: [info\n",
                "3:1: end of sequence flow not found"},  // yaml-cpp's own parse error
        BadCase{"- just\n- a list\n", "1:1: the top level: expected a mapping"}));

TEST(Config, LoadReportsTheFileName) {
    test::TempDir dir;
    auto file = dir / "vmpower.yaml";
    std::ofstream(file) << "vms:\n  - name: a\n    bogus: 1\n";
    try {
        loadConfig(file);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()).rfind(file.string() + ":3:5: unknown key 'bogus'", 0), 0U)
            << e.what();
    }
    EXPECT_THROW(loadConfig(dir / "missing.yaml"), ConfigError);
}

TEST(Config, ReadThroughALinkButNeverFromAFifo) {
    test::TempDir dir;
    const auto real = dir / "managed.yaml";
    std::ofstream(real) << "agent:\n  log_level: debug\n";
    const auto link = dir / "vmpower.yaml";
    ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
    EXPECT_EQ(loadConfig(link).agent.log_level, "debug");  // config management keeps links

    const auto fifo = dir / "fifo.yaml";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    try {
        loadConfig(fifo);  // returns at once: no writer ever comes
        FAIL() << "a FIFO was read";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  fifo.string() + ":1:1: cannot read: is not a regular file; refusing to read it");
    }
}

TEST(Config, ShippedDefaultParses) {
    Config c = loadConfig(VMPOWER_SOURCE_ROOT "/config/vmpower.yaml");
    ASSERT_FALSE(c.rules->rules().empty());
    const AccessRule* any = c.rules->match("some-vm", "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e");
    ASSERT_NE(any, nullptr);
    EXPECT_FALSE(any->allowed_pcpus) << "the default scales the pinned pCPUs";
    EXPECT_FALSE(any->physical_addressing);
    EXPECT_EQ(any->record_format, RecordFormat::Dpdk464);
}

}  // namespace
}  // namespace vmpower

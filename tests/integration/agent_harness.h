#pragma once
// An in-process Agent on libvirt's test driver (test:///<node.xml>): the
// test driver is per-process, so the test drives domains through the agent's
// own connection and plays QEMU on the channel sockets.

#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "agent.h"
#include "config.h"
#include "fake_qemu.h"
#include "libvirt_handles.h"
#include "power_setup.h"
#include "sysfs_fixture.h"  // TempDir

namespace vmpower::test {

inline void writeFile(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p) << text;
}

// Runs the loop until pred() or the timeout; a 10 ms tick keeps runOnce
// from blocking forever when nothing happens.
inline bool runUntil(Agent& agent, const std::function<bool()>& pred,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    EventLoop::Timer tick([] {});
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        tick.arm(std::chrono::milliseconds(10));
        agent.runOnce();
    }
    return true;
}

inline std::string agentYaml(const std::filesystem::path& dir,
                             const std::filesystem::path& sysfs_root, bool verify_peer,
                             const std::string& vms_yaml, const std::string& extra_agent = "") {
    return "agent:\n"
           "  sysfs_root: " +
           sysfs_root.string() +
           "\n"
           "  state_dir: " +
           (dir / "state").string() +
           "\n"
           "  control_socket: " +
           (dir / "ctl.sock").string() +
           "\n"
           "  verify_channel_peer: " +
           (verify_peer ? "true" : "false") +
           "\n"
           "  qemu_pid_dir: " +
           (dir / "pids").string() + "\n" + extra_agent + "vms:\n" + vms_yaml;
}

inline DomainHandle lookup(Agent& agent, const std::string& name) {
    return DomainHandle(virDomainLookupByName(agent.hypervisor().connection(), name.c_str()));
}

// Domain XML for the test driver's node file.
inline std::string channelXml(const std::string& path, unsigned index,
                              const std::string& type = "unix") {
    return "<channel type='" + type + "'><source mode='bind' path='" + path +
           "'/><target type='virtio' name='virtio.serial.port.poweragent." + std::to_string(index) +
           "'/></channel>\n";
}

inline std::string domainXml(const std::string& name, const std::string& uuid,
                             const std::string& devices, unsigned vcpus = 2) {
    return "<domain type='test'><name>" + name + "</name><uuid>" + uuid +
           "</uuid><memory>1048576</memory><vcpu>" + std::to_string(vcpus) +
           "</vcpu><os><type>hvm</type></os><devices>"
           "<controller type='virtio-serial' index='0'/>" +
           devices + "</devices></domain>\n";
}

// A test with an in-process Agent on test:///<dir>/node.xml and a private
// copy of a fixture sysfs tree.
class AgentTestDriverFixture : public ::testing::Test {
  protected:
    // The config is written to a file too, so reload can be tested.
    void startAgent(const std::string& domains, const std::string& vms_yaml,
                    bool verify_peer = false, const std::string& driver = "acpi-cpufreq") {
        writeFile(dir_.path() / "node.xml",
                  "<node><cpu><mode>host-model</mode></cpu>" + domains + "</node>\n");
        fixture_ = std::make_unique<SysfsFixture>(driver);
        config_path_ = dir_.path() / "vmpower.yaml";
        writeFile(config_path_, agentYaml(dir_.path(), fixture_->root(), verify_peer, vms_yaml,
                                          extra_agent_yaml_));
        Config cfg = loadConfig(config_path_);
        power_ = makeArbiterFor(cfg.agent);
        AgentOptions opts;
        opts.uri = "test://" + (dir_.path() / "node.xml").string();
        opts.config_path = config_path_;
        opts.handle_signals = false;
        opts.notify_systemd = false;
        opts.log_level = command_line_log_level_;
        agent_ = std::make_unique<Agent>(opts, cfg, *power_);
        agent_->start();
        ASSERT_TRUE(runUntil(*agent_, [&] { return agent_->ready(); }));
    }
    std::string path(const std::string& leaf) const { return (dir_.path() / leaf).string(); }
    const Channel* channel(const char* uuid, unsigned index) const {
        const Domain* d = agent_->registry().find(uuid);
        if (d == nullptr) return nullptr;
        auto it = d->channels.find(index);
        return it == d->channels.end() ? nullptr : it->second.get();
    }
    bool accepted(FakeQemuSocket& s) {
        return runUntil(*agent_, [&] { return s.poll() || s.connected(); });
    }

    TempDir dir_;
    std::filesystem::path config_path_;
    std::string command_line_log_level_;  // vmpowerd --log-level; empty: the file's
    std::string extra_agent_yaml_;        // more "  key: value\n" lines under agent:
    std::unique_ptr<SysfsFixture> fixture_;
    std::unique_ptr<Arbiter> power_;
    std::unique_ptr<Agent> agent_;
};

}  // namespace vmpower::test

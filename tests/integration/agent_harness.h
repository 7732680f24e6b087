#pragma once
// An in-process Agent on libvirt's test driver (test:///<node.xml>): the
// test driver is per-process, so the test drives domains through the agent's
// own connection and plays QEMU on the channel sockets.

#include <libvirt/libvirt.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "agent.h"
#include "config.h"
#include "libvirt_handles.h"
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
                             const std::string& vms_yaml) {
    return "agent:\n"
           "  sysfs_root: " + sysfs_root.string() + "\n"
           "  state_dir: " + (dir / "state").string() + "\n"
           "  control_socket: " + (dir / "ctl.sock").string() + "\n"
           "  verify_channel_peer: " + (verify_peer ? "true" : "false") + "\n"
           "  qemu_pid_dir: " + (dir / "pids").string() + "\n"
           "vms:\n" + vms_yaml;
}

inline DomainHandle lookup(Agent& agent, const std::string& name) {
    return DomainHandle(virDomainLookupByName(agent.hypervisor().connection(), name.c_str()));
}

}  // namespace vmpower::test

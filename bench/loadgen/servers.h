#pragma once
// The servers the generator drives, each a child process pinned to a CPU:
// the echo floor (connects to every channel, reads 464 bytes, writes them
// back), vmpowerd on libvirt's test driver and a tmpfs copy of a fixture
// sysfs tree, and DPDK's vm_power_mgr when one was built.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vmpower::bench {

// A child process; killed (SIGTERM, then SIGKILL) when dropped.
class ServerProcess {
  public:
    ServerProcess() = default;
    explicit ServerProcess(pid_t pid) : pid_(pid) {}
    ServerProcess(ServerProcess&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
    ServerProcess& operator=(ServerProcess&& o) noexcept {
        std::swap(pid_, o.pid_);  // o's destructor ends what this held
        return *this;
    }
    ~ServerProcess();
    pid_t pid() const { return pid_; }
    bool running() const;

  private:
    pid_t pid_ = -1;
};

// The trivial epoll echo server on the same sockets, pinned to `cpu`
// (negative: not pinned).
ServerProcess startEchoFloor(const std::vector<std::filesystem::path>& sockets, int cpu);

struct VmpowerdSetup {
    std::filesystem::path binary;        // build/agent/vmpowerd
    std::filesystem::path fixture_tree;  // tests/fixtures/sysfs/acpi-cpufreq
    std::filesystem::path dir;           // scratch (tmpfs): node.xml, sys/, state/, config
    unsigned domains = 1;
    unsigned channels_per_domain = 1;  // <= 64 (DPDK's limit per domain)
    // Channel c of domain d is socket number d * channels_per_domain + c.
    std::filesystem::path socket_dir;
};

// Writes node.xml (every domain's vCPU 0 and emulator pinned to pCPU 1),
// copies the fixture tree, writes the config (rule "*": up/down/max, no rate
// limit, peer check off) and starts vmpowerd --connect test:///<node.xml>.
ServerProcess startVmpowerd(const VmpowerdSetup& setup, int cpu);

// Resident set (VmRSS) in kB; CPU time of all its threads in ns (10 ms steps).
std::optional<std::uint64_t> residentKb(pid_t pid);
std::optional<std::uint64_t> cpuNs(pid_t pid);

void pinTo(int cpu);  // this process (negative: no-op)

}  // namespace vmpower::bench

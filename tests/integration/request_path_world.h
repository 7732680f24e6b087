#pragma once
// The world of the request-path integration tests: records built byte by
// byte, the QEMU end of a channel, and a fixture (fixture sysfs tree, domains
// on libvirt's test driver, an in-process Agent). Expected values in the
// tests are worked out from the fixture trees and the documented behaviour
// (agent/cpufreq/arbiter.h, docs/protocol.md), not recorded from a run.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "agent_harness.h"
#include "power_setup.h"
#include "sysfs_fixture.h"
#include "unique_fd.h"
#include "vmpower/protocol.h"

namespace vmpower::test {

using namespace std::chrono_literals;
using Bytes = std::vector<std::byte>;
using Files = std::map<std::string, std::string>;  // relative path -> exact bytes

constexpr std::size_t kRecord = VMPOWER_PACKET_SIZE;
const std::string kCpu = "devices/system/cpu/";
const std::string kPolicy0 = kCpu + "cpufreq/policy0/";
const std::string kPolicy1 = kCpu + "cpufreq/policy1/";
const std::string kPolicy2 = kCpu + "cpufreq/policy2/";

// ---- records, built byte by byte (no struct padding of ours on the wire)

template <typename T>
void put(Bytes& b, std::size_t offset, const T& v) {
    std::memcpy(b.data() + offset, &v, sizeof v);
}
template <typename T>
T get(const Bytes& b, std::size_t offset) {
    T v{};
    std::memcpy(&v, b.data() + offset, sizeof v);
    return v;
}

inline Bytes packet(std::uint32_t command, std::uint64_t resource_id, std::uint32_t unit = 0) {
    Bytes b(kRecord);
    put(b, offsetof(vmpower_packet, resource_id), resource_id);
    put(b, offsetof(vmpower_packet, unit), unit);
    put(b, offsetof(vmpower_packet, command), command);
    return b;
}
inline Bytes cpuPower(std::uint64_t vcpu, std::uint32_t unit) {
    return packet(VMPOWER_CPU_POWER, vcpu, unit);
}
inline Bytes legacy(std::uint32_t command, std::uint64_t resource_id, std::uint32_t unit) {
    Bytes b(VMPOWER_PACKET_V1_SIZE);
    put(b, offsetof(vmpower_packet_v1, resource_id), resource_id);
    put(b, offsetof(vmpower_packet_v1, unit), unit);
    put(b, offsetof(vmpower_packet_v1, command), command);
    return b;
}
inline Bytes withVmName(Bytes b, const std::string& name) {
    std::memcpy(b.data() + offsetof(vmpower_packet, vm_name), name.data(),
                std::min<std::size_t>(name.size(), VMPOWER_VM_NAME_LEN));
    return b;
}
inline Bytes withCoreType(Bytes b, std::uint8_t core_type) {
    put(b, offsetof(vmpower_packet, core_type), core_type);
    return b;
}

// What the agent must answer to a CPU_POWER/PKT_POLICY record: the request
// echoed with `command` replaced and the padding zeroed (docs/protocol.md).
inline Bytes echo(Bytes b, std::uint32_t command) {
    if (b.size() == kRecord) {
        const std::initializer_list<std::pair<std::size_t, std::size_t>> padding = {
            {153, 156}, {445, 448}, {457, 464}};
        for (auto [first, last] : padding) {
            for (std::size_t i = first; i < last; ++i) b[i] = std::byte{0};
        }
    }
    put(b, offsetof(vmpower_packet, command), command);
    return b;
}

// What a PKT_POLICY record asks for.
struct Policy464 {
    std::int32_t type = 2;  // policy_to_use: TRAFFIC=0 TIME=1 WORKLOAD=2 BRANCH_RATIO=3
    std::int32_t workload = 0;
    std::vector<std::uint8_t> vcpus = {0};
    std::vector<std::int32_t> busy, quiet, traffic_hours;
    std::uint32_t middle_pps = 0, max_pps = 0;
    std::string vm_name;
};

// A PKT_POLICY record as DPDK's guest builds it (zeroed, then filled).
inline Bytes policyRecord(const Policy464& p) {
    Bytes b = packet(VMPOWER_PKT_POLICY, 0);
    put(b, offsetof(vmpower_packet, policy_to_use), p.type);
    put(b, offsetof(vmpower_packet, workload), p.workload);
    put(b, offsetof(vmpower_packet, num_vcpu), static_cast<std::uint8_t>(p.vcpus.size()));
    for (std::size_t i = 0; i < p.vcpus.size(); ++i)
        put(b, offsetof(vmpower_packet, vcpu_to_control) + i, p.vcpus[i]);
    const std::size_t hours = offsetof(vmpower_packet, timer_policy);
    for (std::size_t list = 0; list < 3; ++list) {
        const auto& src = list == 0 ? p.busy : list == 1 ? p.quiet : p.traffic_hours;
        for (std::size_t i = 0; i < VMPOWER_HOURS; ++i) {
            put(b, hours + (list * VMPOWER_HOURS + i) * 4,
                i < src.size() ? src[i] : std::int32_t{-1});
        }
    }
    put(b, offsetof(vmpower_packet, traffic_policy) + 4, p.middle_pps);
    put(b, offsetof(vmpower_packet, traffic_policy) + 8, p.max_pps);
    return withVmName(b, p.vm_name);
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

inline std::string hex(const Bytes& b) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i > 0 && i % 16 == 0) s += '\n';
        const auto v = std::to_integer<unsigned>(b[i]);
        s += digits[v >> 4];
        s += digits[v & 15];
    }
    return s;
}

inline std::string line(std::uint32_t khz) {
    return std::to_string(khz) + "\n";
}

// ---- the QEMU side of one channel

class QemuEnd {
  public:
    explicit QemuEnd(std::filesystem::path path)
        : path_(std::move(path)), listen_(listenUnix(path_)) {}
    ~QemuEnd() { ::unlink(path_.c_str()); }
    QemuEnd(const QemuEnd&) = delete;
    QemuEnd& operator=(const QemuEnd&) = delete;

    bool accept() {
        if (conn_) return true;
        conn_.reset(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        return conn_.valid();
    }
    bool connected() const { return conn_.valid(); }
    int fd() const { return conn_.get(); }

    // Reads what the agent wrote into the inbox; false once the agent closed.
    bool pump() {
        std::byte buf[8192];
        for (;;) {
            ssize_t n = ::recv(conn_.get(), buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                inbox_.insert(inbox_.end(), buf, buf + n);
                continue;
            }
            if (n == 0) return false;
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        }
    }
    Bytes& inbox() { return inbox_; }
    // QEMU closes its end of the connection (the guest's port goes away);
    // the listening socket stays, so the agent can connect again.
    void hangUp() {
        conn_.reset();
        inbox_.clear();
    }

    // All of `bytes`, running the agent's loop whenever the socket is full
    // (a real guest's writes can block the same way).
    bool sendAll(Agent& agent, const Bytes& bytes) {
        std::size_t off = 0;
        bool failed = false;
        bool done = runUntil(
            agent,
            [&] {
                while (off < bytes.size()) {
                    ssize_t n = ::send(conn_.get(), bytes.data() + off, bytes.size() - off,
                                       MSG_DONTWAIT | MSG_NOSIGNAL);
                    if (n < 0) {
                        if (errno == EINTR) continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
                        failed = true;
                        return true;
                    }
                    off += static_cast<std::size_t>(n);
                }
                return true;
            },
            30s);
        return done && !failed;
    }

  private:
    std::filesystem::path path_;
    UniqueFd listen_;
    UniqueFd conn_;
    Bytes inbox_;
};

// ---- a world: fixture tree, domains on the test driver, agent, QEMU ends

struct Vm {
    std::string name;
    std::vector<std::string> pins;  // cpulist per vCPU (<vcpupin>); "": unpinned
    int channels = -1;              // poweragent.0 .. N-1; -1: one per vCPU
    // <emulatorpin cpuset>; "" leaves it out: QEMU's own threads may then run
    // on every host CPU, making the VM a stakeholder of every policy (a
    // neighbour can then only raise). Two VMs that must scale independently
    // pin their emulator threads to their own CPUs, as DPDK guides say.
    std::string emulator;
    // One IOThread: <iothreadpin cpuset> when a cpulist, unpinned (every host
    // CPU) when "*", none when "".
    std::string iothread;
};

inline std::string unitName(std::uint32_t unit) {
    switch (unit) {
        case VMPOWER_SCALE_UP:
            return "up";
        case VMPOWER_SCALE_DOWN:
            return "down";
        case VMPOWER_SCALE_MAX:
            return "max";
        case VMPOWER_SCALE_MIN:
            return "min";
        case VMPOWER_ENABLE_TURBO:
            return "enable_turbo";
        case VMPOWER_DISABLE_TURBO:
            return "disable_turbo";
    }
    return "unit" + std::to_string(unit);
}

inline std::string uuidOf(std::size_t i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012zx", i + 1);
    return buf;
}

// A running domain for the test driver's node file: <vcpupin> per pinned
// vCPU ("" leaves it unpinned), <emulatorpin> when given, power channel N at
// channel_paths[N], `metadata` (if any) inside <metadata>.
inline std::string testDomainXml(const std::string& name, const std::string& uuid,
                                 const std::vector<std::string>& pins, const std::string& emulator,
                                 const std::vector<std::filesystem::path>& channel_paths,
                                 const std::string& metadata = "",
                                 const std::string& iothread = "") {
    std::string cputune, channels;
    for (std::size_t v = 0; v < pins.size(); ++v) {
        if (pins[v].empty()) continue;  // unpinned: every host CPU
        cputune += "<vcpupin vcpu='" + std::to_string(v) + "' cpuset='" + pins[v] + "'/>";
    }
    if (!emulator.empty()) cputune += "<emulatorpin cpuset='" + emulator + "'/>";
    if (!iothread.empty() && iothread != "*")
        cputune += "<iothreadpin iothread='1' cpuset='" + iothread + "'/>";
    for (std::size_t c = 0; c < channel_paths.size(); ++c) {
        channels += channelXml(channel_paths[c].string(), static_cast<unsigned>(c));
    }
    return "<domain type='test'><name>" + name + "</name><uuid>" + uuid + "</uuid>" +
           (metadata.empty() ? "" : "<metadata>" + metadata + "</metadata>") +
           "<memory>1048576</memory><vcpu placement='static'>" + std::to_string(pins.size()) +
           "</vcpu>" + (iothread.empty() ? "" : "<iothreads>1</iothreads>") + "<cputune>" +
           cputune +
           "</cputune><os><type>hvm</type></os><devices>"
           "<controller type='virtio-serial' index='0'/>" +
           channels + "</devices></domain>\n";
}

// The node file: a host with the fixture trees' 4 CPUs (unpinned vCPUs run
// on 0-3) and `domains`.
inline std::string fourCpuNodeXml(const std::string& domains) {
    return "<node><cpu><mode>host-model</mode><nodes>1</nodes><sockets>1</sockets>"
           "<cores>4</cores><threads>1</threads><active>4</active></cpu>" +
           domains + "</node>\n";
}

class RequestPath : public ::testing::Test {
  protected:
    // Copies the fixture tree, applies `preset` (the machine's state before
    // the agent starts: the baseline every check compares against), defines
    // the running domains and starts the agent with `rules` as its `vms:`.
    void start(const std::string& driver, const std::vector<Vm>& vms, const std::string& rules,
               const Files& preset = {}) {
        fixture_ = std::make_unique<SysfsFixture>(driver);
        for (const auto& [file, bytes] : preset) fixture_->write(file, bytes);
        baseline_ = fixture_->snapshot();

        std::string domains;
        for (std::size_t i = 0; i < vms.size(); ++i) {
            const Vm& vm = vms[i];
            uuids_[vm.name] = uuidOf(i);
            const std::size_t nch =
                vm.channels < 0 ? vm.pins.size() : static_cast<std::size_t>(vm.channels);
            std::vector<std::filesystem::path> paths;
            for (std::size_t c = 0; c < nch; ++c) {
                const std::string key = vm.name + "." + std::to_string(c);
                qemu_[key] = std::make_unique<QemuEnd>(dir_.path() / key);
                paths.push_back(dir_.path() / key);
            }
            domains += testDomainXml(vm.name, uuids_[vm.name], vm.pins, vm.emulator, paths, "",
                                     vm.iothread);
        }
        writeFile(dir_.path() / "node.xml", fourCpuNodeXml(domains));

        // Written to a file too, so that agent_->reload() can re-read it.
        config_path_ = dir_.path() / "vmpower.yaml";
        writeConfig(rules);
        startAgent();
        // The pinning the test relies on is the agent's live map.
        for (const Vm& vm : vms) {
            const Domain* d = agent_->registry().find(uuids_[vm.name]);
            ASSERT_NE(d, nullptr) << vm.name;
            ASSERT_EQ(d->vcpus.vcpuCount(), vm.pins.size()) << vm.name;
            for (std::size_t v = 0; v < vm.pins.size(); ++v) {
                if (vm.pins[v].empty()) {
                    ASSERT_EQ(d->vcpus.pcpus(v).toString(), "0-3") << vm.name;
                    continue;
                }
                ASSERT_EQ(d->vcpus.pcpus(v).toString(), vm.pins[v]) << vm.name << " vCPU " << v;
            }
        }
    }

    // An agent (and its Arbiter) on the fixture, the node file and the
    // config file as they are; every QEMU end connected.
    void startAgent() {
        Config cfg = loadConfig(config_path_);
        power_ = makeArbiterFor(cfg.agent);
        ASSERT_TRUE(power_->hasCpufreq());
        AgentOptions opts;
        opts.uri = "test://" + (dir_.path() / "node.xml").string();
        opts.config_path = config_path_;
        opts.handle_signals = false;
        opts.control_socket = false;
        opts.notify_systemd = false;
        opts.wall_clock = wall_clock_;
        opts.traffic = traffic_;
        opts.branch_counters = branch_counters_;
        opts.request_clock = request_clock_;
        agent_ = std::make_unique<Agent>(opts, cfg, *power_);
        agent_->start();
        ASSERT_TRUE(runUntil(*agent_, [&] { return agent_->ready(); }));
        for (auto& entry : qemu_) {
            QemuEnd& end = *entry.second;  // clang: no lambda capture of a structured binding
            ASSERT_TRUE(runUntil(*agent_, [&] { return end.accept(); }))
                << entry.first << " not connected";
        }
    }
    // vmpowerd stops (restoring the tree) and starts again; QEMU's sockets stay.
    void restartAgent() {
        agent_.reset();
        power_.reset();
        for (auto& [key, end] : qemu_) end->hangUp();
        startAgent();
    }

    // The config file with `rules` as its `vms:` (same agent: settings).
    void writeConfig(const std::string& rules) {
        writeFile(config_path_,
                  agentYaml(dir_.path(), fixture_->root(), false, rules, extra_agent_yaml_));
    }

    QemuEnd& q(const std::string& vm, unsigned index) {
        return *qemu_.at(vm + "." + std::to_string(index));
    }
    const Channel& channel(const std::string& vm, unsigned index) {
        const Domain* d = agent_->registry().find(uuids_.at(vm));
        if (d == nullptr) throw std::runtime_error(vm + " is not tracked");
        return *d->channels.at(index);
    }

    // The next `n` bytes the agent sends on `end` (bounded wait).
    Bytes receive(QemuEnd& end, std::size_t n, std::chrono::milliseconds timeout = 5s) {
        bool open = true;
        if (!runUntil(
                *agent_,
                [&] {
                    open = end.pump() && open;
                    return end.inbox().size() >= n || !open;
                },
                timeout) ||
            end.inbox().size() < n) {
            ADD_FAILURE() << "wanted " << n << " bytes, got " << end.inbox().size()
                          << (open ? "" : " and the agent closed the channel");
            return {};
        }
        Bytes out(end.inbox().begin(), end.inbox().begin() + static_cast<std::ptrdiff_t>(n));
        end.inbox().erase(end.inbox().begin(),
                          end.inbox().begin() + static_cast<std::ptrdiff_t>(n));
        return out;
    }
    Bytes exchange(const std::string& vm, unsigned index, const Bytes& request, std::size_t reply,
                   std::chrono::milliseconds timeout = 5s) {
        EXPECT_TRUE(q(vm, index).sendAll(*agent_, request));
        return receive(q(vm, index), reply, timeout);
    }
    // One CPU_POWER round trip that must be answered `command` byte-exactly.
    void expectReply(const std::string& vm, unsigned index, const Bytes& request,
                     std::uint32_t command) {
        EXPECT_EQ(hex(exchange(vm, index, request, request.size())), hex(echo(request, command)))
            << vm << " channel " << index;
    }

    std::vector<std::string> changed() const { return diffTrees(baseline_, fixture_->snapshot()); }
    static std::vector<std::string> keys(const Files& files) {
        std::vector<std::string> out;
        for (const auto& [k, v] : files) out.push_back(k);
        return out;
    }
    void expectFiles(const Files& files) {
        for (const auto& [file, bytes] : files) EXPECT_EQ(fixture_->read(file), bytes) << file;
    }

    // The agent exits: its destructor releases every VM, the Arbiter's
    // restores what it journaled.
    void stopAgent() {
        qemu_.clear();
        agent_.reset();
        power_.reset();
    }
    void expectTreeAsBefore() {
        EXPECT_EQ(diffTrees(baseline_, fixture_->snapshot()), std::vector<std::string>{});
        EXPECT_TRUE(fixture_->snapshot() == baseline_);
    }

    TempDir dir_;
    std::filesystem::path config_path_;
    // More "  key: value\n" lines under agent:. By default the host keeps no
    // CPU (`host_cpus: ""`): the fixture trees isolate nothing, and the cases
    // here are about VMs; a test of the host's own stake clears or changes it.
    std::string extra_agent_yaml_ = "  host_cpus: \"\"\n";
    // Host policies' edges for the agent; null: the real ones.
    const WallClock* wall_clock_ = nullptr;
    TrafficSource* traffic_ = nullptr;
    BranchCounterSource* branch_counters_ = nullptr;
    // The request path's clock (rate limits, log throttles); null: the real one.
    const Clock* request_clock_ = nullptr;
    std::unique_ptr<SysfsFixture> fixture_;
    TreeSnapshot baseline_;
    std::map<std::string, std::string> uuids_;
    std::unique_ptr<Arbiter> power_;
    std::unique_ptr<Agent> agent_;  // after power_: destroyed first
    std::map<std::string, std::unique_ptr<QemuEnd>> qemu_;
};

}  // namespace vmpower::test

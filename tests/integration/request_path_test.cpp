// The request path end to end (issue 4, "Done when"): an in-process Agent on
// libvirt's test driver, the test playing QEMU on every channel socket, a
// private copy of a fixture sysfs tree per test. Every command changes exactly
// the files it should, a NACK changes nothing, hostile guests get nowhere
// while other channels keep being served, and after the agent exits the tree
// is byte-identical to what it was before. Also: a channel closing
// mid-record, the policy keys multi_pcpu, shared_pcpus, floor_khz/ceiling_khz
// and rate: 0, and a reload (record_format switched; an invalid file ignored).
//
// Expected files and values are worked out from the fixture trees
// (tests/fixtures/sysfs/) and the Arbiter's documented behaviour
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
namespace {

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

Bytes packet(std::uint32_t command, std::uint64_t resource_id, std::uint32_t unit = 0) {
    Bytes b(kRecord);
    put(b, offsetof(vmpower_packet, resource_id), resource_id);
    put(b, offsetof(vmpower_packet, unit), unit);
    put(b, offsetof(vmpower_packet, command), command);
    return b;
}
Bytes cpuPower(std::uint64_t vcpu, std::uint32_t unit) {
    return packet(VMPOWER_CPU_POWER, vcpu, unit);
}
Bytes legacy(std::uint32_t command, std::uint64_t resource_id, std::uint32_t unit) {
    Bytes b(VMPOWER_PACKET_V1_SIZE);
    put(b, offsetof(vmpower_packet_v1, resource_id), resource_id);
    put(b, offsetof(vmpower_packet_v1, unit), unit);
    put(b, offsetof(vmpower_packet_v1, command), command);
    return b;
}
Bytes withVmName(Bytes b, const std::string& name) {
    std::memcpy(b.data() + offsetof(vmpower_packet, vm_name), name.data(),
                std::min<std::size_t>(name.size(), VMPOWER_VM_NAME_LEN));
    return b;
}
Bytes withCoreType(Bytes b, std::uint8_t core_type) {
    put(b, offsetof(vmpower_packet, core_type), core_type);
    return b;
}

// What the agent must answer to a CPU_POWER/PKT_POLICY record: the request
// echoed with `command` replaced and the padding zeroed (docs/protocol.md).
Bytes echo(Bytes b, std::uint32_t command) {
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

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

std::string hex(const Bytes& b) {
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

std::string line(std::uint32_t khz) {
    return std::to_string(khz) + "\n";
}

// ---- the QEMU side of one channel

class QemuEnd {
  public:
    explicit QemuEnd(std::filesystem::path path) : path_(std::move(path)) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
        listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!listen_ ||
            ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
            ::listen(listen_.get(), 4) < 0) {
            throw std::runtime_error("qemu end " + path_.string() + ": " + std::strerror(errno));
        }
    }
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
    std::vector<std::string> pins;  // cpulist per vCPU (<vcpupin>)
    int channels = -1;              // poweragent.0 .. N-1; -1: one per vCPU
};

std::string uuidOf(std::size_t i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012zx", i + 1);
    return buf;
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
            std::string pins, channels;
            for (std::size_t v = 0; v < vm.pins.size(); ++v) {
                pins += "<vcpupin vcpu='" + std::to_string(v) + "' cpuset='" + vm.pins[v] + "'/>";
            }
            const std::size_t nch =
                vm.channels < 0 ? vm.pins.size() : static_cast<std::size_t>(vm.channels);
            for (std::size_t c = 0; c < nch; ++c) {
                const std::string key = vm.name + "." + std::to_string(c);
                qemu_[key] = std::make_unique<QemuEnd>(dir_.path() / key);
                channels += "<channel type='unix'><source mode='bind' path='" +
                            (dir_.path() / key).string() +
                            "'/><target type='virtio' name='virtio.serial.port.poweragent." +
                            std::to_string(c) + "'/></channel>";
            }
            domains += "<domain type='test'><name>" + vm.name + "</name><uuid>" + uuids_[vm.name] +
                       "</uuid><memory>1048576</memory><vcpu placement='static'>" +
                       std::to_string(vm.pins.size()) + "</vcpu><cputune>" + pins +
                       "</cputune><os><type>hvm</type></os><devices>"
                       "<controller type='virtio-serial' index='0'/>" +
                       channels + "</devices></domain>\n";
        }
        writeFile(dir_.path() / "node.xml",
                  "<node><cpu><mode>host-model</mode></cpu>" + domains + "</node>\n");

        // Written to a file too, so that agent_->reload() can re-read it.
        config_path_ = dir_.path() / "vmpower.yaml";
        writeConfig(rules);
        Config cfg = loadConfig(config_path_);
        power_ = makeArbiterFor(cfg.agent);
        ASSERT_TRUE(power_->hasCpufreq());
        AgentOptions opts;
        opts.uri = "test://" + (dir_.path() / "node.xml").string();
        opts.config_path = config_path_;
        opts.handle_signals = false;
        opts.control_socket = false;
        opts.notify_systemd = false;
        agent_ = std::make_unique<Agent>(opts, cfg, *power_);
        agent_->start();
        ASSERT_TRUE(runUntil(*agent_, [&] { return agent_->ready(); }));
        for (auto& entry : qemu_) {
            QemuEnd& end = *entry.second;  // clang: no lambda capture of a structured binding
            ASSERT_TRUE(runUntil(*agent_, [&] { return end.accept(); }))
                << entry.first << " not connected";
        }
        // The pinning the test relies on is the agent's live map.
        for (const Vm& vm : vms) {
            const Domain* d = agent_->registry().find(uuids_[vm.name]);
            ASSERT_NE(d, nullptr) << vm.name;
            ASSERT_EQ(d->vcpus.vcpuCount(), vm.pins.size()) << vm.name;
            for (std::size_t v = 0; v < vm.pins.size(); ++v) {
                ASSERT_EQ(d->vcpus.pcpus(v).toString(), vm.pins[v]) << vm.name << " vCPU " << v;
            }
        }
    }

    // The config file with `rules` as its `vms:` (same agent: settings).
    void writeConfig(const std::string& rules) {
        writeFile(config_path_, agentYaml(dir_.path(), fixture_->root(), false, rules));
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
    std::unique_ptr<SysfsFixture> fixture_;
    TreeSnapshot baseline_;
    std::map<std::string, std::string> uuids_;
    std::unique_ptr<Arbiter> power_;
    std::unique_ptr<Agent> agent_;  // after power_: destroyed first
    std::map<std::string, std::unique_ptr<QemuEnd>> qemu_;
};

// =========================================================================
// Every command on every driver: ACK, exactly the expected files, restored.

struct CommandCase {
    std::string driver;
    std::uint32_t unit;
    bool ack;
    Files changes;  // exactly the files that differ from the baseline afterwards
    Files preset;   // machine state before the agent starts
};

std::string unitName(std::uint32_t unit) {
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

// The request is vCPU 1 of a VM whose vCPU 1 is pinned to pCPU 2, which is
// policy2 on every fixture (acpi-cpufreq and cppc_cpufreq: shared with CPU 3).
std::vector<CommandCase> commandCases() {
    std::vector<CommandCase> out;
    // acpi-cpufreq, userspace backend: the governor becomes `userspace` and
    // the level goes to scaling_setspeed. Steps: scaling_available_frequencies
    // (800000..3400000 every 200000); from scaling_cur_freq 1600000.
    auto userspace = [&](std::uint32_t khz) {
        return Files{{kPolicy2 + "scaling_governor", "userspace\n"},
                     {kPolicy2 + "scaling_setspeed", line(khz)}};
    };
    const std::string acpi_boost = kCpu + "cpufreq/boost";  // no per-policy boost: global
    out.push_back({"acpi-cpufreq", VMPOWER_SCALE_UP, true, userspace(1800000), {}});
    out.push_back({"acpi-cpufreq", VMPOWER_SCALE_DOWN, true, userspace(1400000), {}});
    out.push_back({"acpi-cpufreq", VMPOWER_SCALE_MAX, true, userspace(3400000), {}});
    out.push_back({"acpi-cpufreq", VMPOWER_SCALE_MIN, true, userspace(800000), {}});
    out.push_back(
        {"acpi-cpufreq", VMPOWER_ENABLE_TURBO, true, {{acpi_boost, "1\n"}}, {{acpi_boost, "0\n"}}});
    out.push_back({"acpi-cpufreq", VMPOWER_DISABLE_TURBO, true, {{acpi_boost, "0\n"}}, {}});

    // min/max backend: min and max pinned to the level; a write that leaves
    // a file's bytes as they were is no change. No frequency list: steps of
    // 100000 from cpuinfo_min_freq, cpuinfo_max_freq included.
    auto both = [&](std::uint32_t khz) {
        return Files{{kPolicy2 + "scaling_min_freq", line(khz)},
                     {kPolicy2 + "scaling_max_freq", line(khz)}};
    };
    auto minOnly = [&](std::uint32_t khz) {
        return Files{{kPolicy2 + "scaling_min_freq", line(khz)}};
    };
    auto maxOnly = [&](std::uint32_t khz) {
        return Files{{kPolicy2 + "scaling_max_freq", line(khz)}};
    };

    // intel_pstate: 400000..4700000, cur 1123456; turbo: intel_pstate/no_turbo (inverted).
    const std::string no_turbo = kCpu + "intel_pstate/no_turbo";
    out.push_back({"intel_pstate", VMPOWER_SCALE_UP, true, both(1200000), {}});
    out.push_back({"intel_pstate", VMPOWER_SCALE_DOWN, true, both(1100000), {}});
    out.push_back(
        {"intel_pstate", VMPOWER_SCALE_MAX, true, minOnly(4700000), {}});  // max was 4700000
    out.push_back(
        {"intel_pstate", VMPOWER_SCALE_MIN, true, maxOnly(400000), {}});  // min was 400000
    out.push_back(
        {"intel_pstate", VMPOWER_ENABLE_TURBO, true, {{no_turbo, "0\n"}}, {{no_turbo, "1\n"}}});
    out.push_back({"intel_pstate", VMPOWER_DISABLE_TURBO, true, {{no_turbo, "1\n"}}, {}});

    // amd-pstate(-epp): 400000..5132000 (last step 5132000), cur 1397000;
    // turbo: the policy's own `boost` file, not the global one.
    const std::string amd_boost = kPolicy2 + "boost";
    out.push_back({"amd-pstate", VMPOWER_SCALE_UP, true, both(1400000), {}});
    out.push_back({"amd-pstate", VMPOWER_SCALE_DOWN, true, both(1300000), {}});
    out.push_back({"amd-pstate", VMPOWER_SCALE_MAX, true, minOnly(5132000), {}});
    out.push_back({"amd-pstate", VMPOWER_SCALE_MIN, true, maxOnly(400000), {}});
    out.push_back(
        {"amd-pstate", VMPOWER_ENABLE_TURBO, true, {{amd_boost, "1\n"}}, {{amd_boost, "0\n"}}});
    out.push_back({"amd-pstate", VMPOWER_DISABLE_TURBO, true, {{amd_boost, "0\n"}}, {}});

    // cppc_cpufreq: 1000000..3000000, cur 2800000; no turbo switch at all.
    out.push_back({"cppc_cpufreq", VMPOWER_SCALE_UP, true, both(2900000), {}});
    out.push_back({"cppc_cpufreq", VMPOWER_SCALE_DOWN, true, both(2700000), {}});
    out.push_back({"cppc_cpufreq", VMPOWER_SCALE_MAX, true, minOnly(3000000), {}});
    out.push_back({"cppc_cpufreq", VMPOWER_SCALE_MIN, true, maxOnly(1000000), {}});
    out.push_back({"cppc_cpufreq", VMPOWER_ENABLE_TURBO, false, {}, {}});
    out.push_back({"cppc_cpufreq", VMPOWER_DISABLE_TURBO, false, {}, {}});
    return out;
}

class EveryCommand : public RequestPath, public ::testing::WithParamInterface<CommandCase> {};

TEST_P(EveryCommand, AnsweredChangesExactlyItsFilesAndIsUndoneAtExit) {
    const CommandCase& c = GetParam();
    start(c.driver, {{"vm1", {"1", "2"}}}, "  - name: \"*\"\n", c.preset);
    ASSERT_TRUE(changed().empty());

    const Bytes request = cpuPower(1, c.unit);
    const Bytes reply = exchange("vm1", 1, request, kRecord);
    EXPECT_EQ(hex(reply), hex(echo(request, c.ack ? VMPOWER_CMD_ACK : VMPOWER_CMD_NACK)));
    if (c.ack) {
        EXPECT_EQ(reply, request) << "an ACK is byte-identical to librte_power's request";
    }
    EXPECT_EQ(changed(), keys(c.changes));
    expectFiles(c.changes);
    const auto stats = channel("vm1", 1).stats();
    EXPECT_EQ(stats.requests.records, 1u);
    EXPECT_EQ(stats.requests.acked, c.ack ? 1u : 0u);
    EXPECT_EQ(stats.requests.nacked, c.ack ? 0u : 1u);
    EXPECT_TRUE(q("vm1", 1).inbox().empty()) << "one reply only";

    stopAgent();
    expectTreeAsBefore();
}

INSTANTIATE_TEST_SUITE_P(Drivers, EveryCommand, ::testing::ValuesIn(commandCases()),
                         [](const ::testing::TestParamInfo<CommandCase>& p) {
                             std::string name = p.param.driver + "_" + unitName(p.param.unit);
                             for (char& ch : name) {
                                 if (ch == '-') ch = '_';
                             }
                             return name;
                         });

// =========================================================================
// A NACK changes nothing (each driver).

class Refusals : public RequestPath, public ::testing::WithParamInterface<std::string> {};

TEST_P(Refusals, EveryNackLeavesTheTreeUntouched) {
    start(GetParam(), {{"limited", {"1", "2"}}, {"free", {"0"}}, {"stranger", {"3"}}},
          "  - name: limited\n"
          "    pcpus: \"1\"\n"
          "    commands: [up, down]\n"
          "  - name: free\n");
    struct Refused {
        const char* what;
        const char* vm;
        unsigned channel;
        Bytes request;
    };
    const std::vector<Refused> refusals = {
        {"pCPU outside the rule's pcpus", "limited", 1, cpuPower(1, VMPOWER_SCALE_UP)},
        {"command not in commands", "limited", 0, cpuPower(0, VMPOWER_SCALE_MAX)},
        {"command not in commands (turbo)", "limited", 0, cpuPower(0, VMPOWER_DISABLE_TURBO)},
        {"unknown unit", "limited", 0, cpuPower(0, 7)},
        {"unit 0", "limited", 0, cpuPower(0, 0)},
        {"resource_id = vCPU count", "limited", 0, cpuPower(2, VMPOWER_SCALE_UP)},
        {"resource_id 2^32 (not vCPU 0)", "limited", 0,
         cpuPower(std::uint64_t{1} << 32, VMPOWER_SCALE_UP)},
        {"resource_id 2^63", "limited", 0, cpuPower(std::uint64_t{1} << 63, VMPOWER_SCALE_UP)},
        {"resource_id 2^64-1", "limited", 0, cpuPower(~std::uint64_t{0}, VMPOWER_SCALE_UP)},
        {"core_type neither 0 nor 1", "limited", 0, withCoreType(cpuPower(0, VMPOWER_SCALE_UP), 2)},
        {"PHYSICAL without permission (own pCPU)", "free", 0,
         withCoreType(cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_CORE_PHYSICAL)},
        {"resource_id = vCPU count (1 vCPU)", "free", 0, cpuPower(1, VMPOWER_SCALE_MAX)},
        {"PKT_POLICY", "free", 0, packet(VMPOWER_PKT_POLICY, 0)},
        {"PKT_POLICY_REMOVE", "free", 0, packet(VMPOWER_PKT_POLICY_REMOVE, 0)},
        {"unmatched VM", "stranger", 0, cpuPower(0, VMPOWER_SCALE_MAX)},
        {"unmatched VM, turbo", "stranger", 0, cpuPower(0, VMPOWER_DISABLE_TURBO)},
    };
    for (const auto& r : refusals) {
        SCOPED_TRACE(r.what);
        expectReply(r.vm, r.channel, r.request, VMPOWER_CMD_NACK);
        EXPECT_EQ(changed(), std::vector<std::string>{});
    }
    // An unmatched VM's queries are refused too, in the reply's size.
    Bytes nack =
        exchange("stranger", 0, packet(VMPOWER_QUERY_FREQ_LIST, 0), VMPOWER_FREQ_LIST_SIZE);
    ASSERT_EQ(nack.size(), VMPOWER_FREQ_LIST_SIZE);
    EXPECT_EQ(get<std::uint32_t>(nack, offsetof(vmpower_freq_list, command)), VMPOWER_CMD_NACK);

    EXPECT_EQ(channel("limited", 0).stats().requests.nacked, 9u);
    EXPECT_EQ(channel("limited", 0).stats().requests.acked, 0u);
    EXPECT_EQ(channel("stranger", 0).stats().requests.nacked, 3u);

    // The same VM, an allowed request: the refusals above were the policy's
    // doing, not a broken set-up. It touches only pCPU 1's policy.
    expectReply("limited", 0, cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_CMD_ACK);
    const std::string pcpu1_policy =
        kCpu + (GetParam() == "cppc_cpufreq" ? "cpufreq/policy0/" : "cpufreq/policy1/");
    const auto touched = changed();
    EXPECT_FALSE(touched.empty());
    for (const auto& f : touched) EXPECT_EQ(f.rfind(pcpu1_policy, 0), 0u) << f;

    stopAgent();
    expectTreeAsBefore();
}

INSTANTIATE_TEST_SUITE_P(Drivers, Refusals,
                         ::testing::Values("acpi-cpufreq", "intel_pstate", "amd-pstate",
                                           "cppc_cpufreq"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                             std::string name = p.param;
                             for (char& ch : name) {
                                 if (ch == '-') ch = '_';
                             }
                             return name;
                         });

TEST_F(RequestPath, PhysicalOnlyWithPermissionAndOnlyWithinThePinnedPcpus) {
    start("acpi-cpufreq", {{"phys", {"2"}}},
          "  - name: phys\n"
          "    physical: true\n");
    // Host CPU 1 is not one the VM is pinned to.
    expectReply("phys", 0, withCoreType(cpuPower(1, VMPOWER_SCALE_MAX), VMPOWER_CORE_PHYSICAL),
                VMPOWER_CMD_NACK);
    expectReply("phys", 0, withCoreType(cpuPower(8192, VMPOWER_SCALE_MAX), VMPOWER_CORE_PHYSICAL),
                VMPOWER_CMD_NACK);
    EXPECT_EQ(changed(), std::vector<std::string>{});
    expectReply("phys", 0, withCoreType(cpuPower(2, VMPOWER_SCALE_MAX), VMPOWER_CORE_PHYSICAL),
                VMPOWER_CMD_ACK);
    const Files want{{kPolicy2 + "scaling_governor", "userspace\n"},
                     {kPolicy2 + "scaling_setspeed", "3400000\n"}};
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);
    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// Arbitration across two VMs on one cpufreq policy, release, restore.

TEST_F(RequestPath, TwoVmsOnOnePolicyDomainHighestWinsReleaseKeepsTheOtherExitRestores) {
    // acpi-cpufreq: CPUs 2 and 3 are one policy (policy2). VM a: vCPU 0 on
    // pCPU 2, vCPU 1 on pCPU 0. VM b: vCPU 0 on pCPU 3.
    start("acpi-cpufreq", {{"a", {"2", "0"}}, {"b", {"3"}}}, "  - name: \"*\"\n");
    const std::string setspeed2 = kPolicy2 + "scaling_setspeed";
    const std::string boost = kCpu + "cpufreq/boost";

    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(setspeed2), "3400000\n");
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(setspeed2), "3400000\n") << "b must not slow a below its request";
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_CMD_ACK);  // b: 800000 -> 1000000
    EXPECT_EQ(fixture_->read(setspeed2), "3400000\n");
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_DOWN), VMPOWER_CMD_ACK);  // a: 3400000 -> 3200000
    EXPECT_EQ(fixture_->read(setspeed2), "3200000\n");
    expectReply("a", 1, cpuPower(1, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);  // policy0
    expectReply("b", 0, cpuPower(0, VMPOWER_DISABLE_TURBO), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(boost), "0\n");
    expectReply("a", 0, cpuPower(0, VMPOWER_ENABLE_TURBO), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(boost), "1\n") << "turbo is on while anyone wants it on";

    const Files both{{kPolicy0 + "scaling_governor", "userspace\n"},
                     {kPolicy0 + "scaling_setspeed", "800000\n"},
                     {kPolicy2 + "scaling_governor", "userspace\n"},
                     {setspeed2, "3200000\n"}};
    EXPECT_EQ(changed(), keys(both));  // boost is back to its original "1\n"
    expectFiles(both);

    // a stops: its holds go, b's 1000000 stays, policy0 (only a's) is restored,
    // and b's wish for turbo off now decides.
    auto dom = lookup(*agent_, "a");
    ASSERT_EQ(virDomainDestroy(dom.get()), 0);
    ASSERT_TRUE(runUntil(*agent_, [&] { return agent_->registry().find(uuids_["a"]) == nullptr; }));
    const Files only_b{{kCpu + "cpufreq/boost", "0\n"},
                       {kPolicy2 + "scaling_governor", "userspace\n"},
                       {setspeed2, "1000000\n"}};
    EXPECT_EQ(changed(), keys(only_b));
    expectFiles(only_b);
    // b is still served.
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(setspeed2), "1200000\n");

    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// Queries.

TEST_F(RequestPath, QueriesReportTheVcpusPcpusAndAreRefusedInTheirOwnSizeWhenOff) {
    // Distinct current frequencies per policy so each vCPU's slot is telling.
    start("acpi-cpufreq",
          {{"q", {"0", "1", "2", "3"}},
           {"noq", {"0"}},
           {"big", std::vector<std::string>(10, "1"), 1}},
          "  - name: noq\n"
          "    queries: false\n"
          "  - name: \"*\"\n",
          {{kPolicy0 + "scaling_cur_freq", "1200000\n"},
           {kPolicy1 + "scaling_cur_freq", "2000000\n"},
           {kPolicy2 + "scaling_cur_freq", "2600000\n"}});

    auto freqs = [](const Bytes& r) {
        std::vector<std::uint32_t> out;
        for (std::size_t i = 0; i < VMPOWER_MAX_VCPU_PER_VM; ++i) {
            out.push_back(get<std::uint32_t>(r, offsetof(vmpower_freq_list, freq_list) + 4 * i));
        }
        return out;
    };
    auto padZero = [](const Bytes& r, std::size_t from) {
        for (std::size_t i = from; i < r.size(); ++i) {
            if (r[i] != std::byte{0}) return false;
        }
        return true;
    };

    // QUERY_FREQ_LIST: header echoed (vm_name is whatever the guest sent).
    Bytes req = withVmName(packet(VMPOWER_QUERY_FREQ_LIST, 5, 9), "q");
    Bytes r = exchange("q", 0, req, VMPOWER_FREQ_LIST_SIZE);
    ASSERT_EQ(r.size(), VMPOWER_FREQ_LIST_SIZE);
    EXPECT_EQ(get<std::uint64_t>(r, 0), 5u);
    EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, unit)), 9u);
    EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, command)), VMPOWER_FREQ_LIST);
    EXPECT_EQ(std::memcmp(r.data() + 16, req.data() + 16, VMPOWER_VM_NAME_LEN), 0);
    EXPECT_EQ(freqs(r),
              (std::vector<std::uint32_t>{1200000, 2000000, 2600000, 2600000, 0, 0, 0, 0}));
    EXPECT_EQ(get<std::uint8_t>(r, offsetof(vmpower_freq_list, num_vcpu)), 4u);
    EXPECT_TRUE(padZero(r, offsetof(vmpower_freq_list, num_vcpu) + 1));

    // QUERY_FREQ: only the asked slot; out of range: an 88-byte NACK.
    r = exchange("q", 1, packet(VMPOWER_QUERY_FREQ, 1), VMPOWER_FREQ_LIST_SIZE);
    EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, command)), VMPOWER_FREQ_LIST);
    EXPECT_EQ(freqs(r), (std::vector<std::uint32_t>{0, 2000000, 0, 0, 0, 0, 0, 0}));
    r = exchange("q", 1, packet(VMPOWER_QUERY_FREQ, 4), VMPOWER_FREQ_LIST_SIZE);
    EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, command)), VMPOWER_CMD_NACK);
    EXPECT_EQ(freqs(r), std::vector<std::uint32_t>(8, 0));

    // QUERY_CAPS_LIST: 184 bytes; every policy has a turbo switch (the
    // global cpufreq/boost); no base_frequency, so no high-priority core.
    r = exchange("q", 2, packet(VMPOWER_QUERY_CAPS_LIST, 0), VMPOWER_CAPS_LIST_SIZE);
    ASSERT_EQ(r.size(), VMPOWER_CAPS_LIST_SIZE);
    EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_caps_list, command)), VMPOWER_CAPS_LIST);
    for (std::size_t i = 0; i < VMPOWER_MAX_VCPU_PER_VM; ++i) {
        EXPECT_EQ(get<std::uint64_t>(r, offsetof(vmpower_caps_list, turbo) + 8 * i),
                  i < 4 ? 1u : 0u)
            << i;
        EXPECT_EQ(get<std::uint64_t>(r, offsetof(vmpower_caps_list, priority) + 8 * i), 0u) << i;
    }
    EXPECT_EQ(get<std::uint8_t>(r, offsetof(vmpower_caps_list, num_vcpu)), 4u);
    EXPECT_TRUE(padZero(r, offsetof(vmpower_caps_list, num_vcpu) + 1));
    r = exchange("q", 2, packet(VMPOWER_QUERY_CAPS, 3), VMPOWER_CAPS_LIST_SIZE);
    EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_caps_list, command)), VMPOWER_CAPS_LIST);
    for (std::size_t i = 0; i < VMPOWER_MAX_VCPU_PER_VM; ++i) {
        EXPECT_EQ(get<std::uint64_t>(r, offsetof(vmpower_caps_list, turbo) + 8 * i),
                  i == 3 ? 1u : 0u)
            << i;
    }
    EXPECT_EQ(changed(), std::vector<std::string>{}) << "queries write nothing";

    // After vCPU 2 asks for max, policy2 (pCPUs 2 and 3) reports it.
    expectReply("q", 2, cpuPower(2, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    r = exchange("q", 3, packet(VMPOWER_QUERY_FREQ_LIST, 0), VMPOWER_FREQ_LIST_SIZE);
    EXPECT_EQ(freqs(r),
              (std::vector<std::uint32_t>{1200000, 2000000, 3400000, 3400000, 0, 0, 0, 0}));

    // More than 8 vCPUs: capped at 8, no index past the arrays.
    r = exchange("big", 0, packet(VMPOWER_QUERY_FREQ_LIST, 0), VMPOWER_FREQ_LIST_SIZE);
    EXPECT_EQ(get<std::uint8_t>(r, offsetof(vmpower_freq_list, num_vcpu)), 8u);
    EXPECT_EQ(freqs(r), std::vector<std::uint32_t>(8, 2000000));
    r = exchange("big", 0, packet(VMPOWER_QUERY_CAPS, 8), VMPOWER_CAPS_LIST_SIZE);
    EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_caps_list, command)), VMPOWER_CMD_NACK);

    // queries: false -> a NACK the size of the reply the guest reads.
    const std::initializer_list<std::pair<std::uint32_t, std::size_t>> queries = {
        {VMPOWER_QUERY_FREQ_LIST, VMPOWER_FREQ_LIST_SIZE},
        {VMPOWER_QUERY_FREQ, VMPOWER_FREQ_LIST_SIZE},
        {VMPOWER_QUERY_CAPS_LIST, VMPOWER_CAPS_LIST_SIZE},
        {VMPOWER_QUERY_CAPS, VMPOWER_CAPS_LIST_SIZE}};
    for (auto [command, size] : queries) {
        SCOPED_TRACE(command);
        r = exchange("noq", 0, packet(command, 0), size);
        ASSERT_EQ(r.size(), size);
        EXPECT_EQ(get<std::uint32_t>(r, 12), VMPOWER_CMD_NACK);
        EXPECT_TRUE(padZero(r, 48)) << "a refused query carries no data";
    }
    // The stream is in step: a CPU_POWER after the refused queries is
    // answered with exactly one 464-byte record and nothing more.
    expectReply("noq", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    EXPECT_TRUE(q("noq", 0).inbox().empty());
    EXPECT_EQ(channel("noq", 0).stats().requests.nacked, 4u);

    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// The 2014 record format, chosen per VM by the policy.

TEST_F(RequestPath, Legacy16RecordsForAVmWhoseRuleSaysSo) {
    start("acpi-cpufreq", {{"old", {"1", "2"}}, {"new", {"0"}}},
          "  - name: old\n"
          "    record_format: legacy-16\n"
          "  - name: \"*\"\n");
    const Bytes request = legacy(VMPOWER_CPU_POWER, 1, VMPOWER_SCALE_MAX);
    // Split in two writes for good measure.
    ASSERT_TRUE(q("old", 1).sendAll(*agent_, Bytes(request.begin(), request.begin() + 7)));
    ASSERT_TRUE(runUntil(*agent_, [&] { return channel("old", 1).stats().bytes_in == 7; }));
    ASSERT_TRUE(q("old", 1).sendAll(*agent_, Bytes(request.begin() + 7, request.end())));
    Bytes reply = receive(q("old", 1), VMPOWER_PACKET_V1_SIZE);
    EXPECT_EQ(hex(reply), hex(request)) << "16-byte ACK, the request echoed";
    const Files want{{kPolicy2 + "scaling_governor", "userspace\n"},
                     {kPolicy2 + "scaling_setspeed", "3400000\n"}};
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);

    // Refusals are 16 bytes too; queries do not exist in this format.
    expectReply("old", 0, legacy(VMPOWER_CPU_POWER, 2, VMPOWER_SCALE_UP), VMPOWER_CMD_NACK);
    expectReply("old", 0, legacy(VMPOWER_CPU_POWER, 0, 9), VMPOWER_CMD_NACK);
    expectReply("old", 0, legacy(VMPOWER_QUERY_FREQ_LIST, 0, 0), VMPOWER_CMD_NACK);
    // Two records in one write: two 16-byte replies, nothing more.
    const Bytes two = concat({legacy(VMPOWER_CPU_POWER, 0, VMPOWER_SCALE_MIN),
                              legacy(VMPOWER_CPU_POWER, 0, VMPOWER_SCALE_UP)});
    EXPECT_EQ(hex(exchange("old", 0, two, two.size())), hex(two));
    EXPECT_EQ(fixture_->read(kPolicy1 + "scaling_setspeed"), "1000000\n");
    // The other VM still speaks 464.
    expectReply("new", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    EXPECT_TRUE(q("old", 0).inbox().empty());
    EXPECT_TRUE(q("old", 1).inbox().empty());

    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// Hostile guests through the socket; another VM is served throughout.

TEST_F(RequestPath, HostileGuestsGetNowhereAndOtherChannelsKeepBeingServed) {
    // acpi-cpufreq. hostile: vCPU 0 on pCPU 1 (policy1), vCPU 1 on pCPU 2
    // (policy2). bystander: pCPU 0 (policy0). flooder and deaf: pCPU 3.
    start("acpi-cpufreq",
          {{"hostile", {"1", "2"}}, {"bystander", {"0"}}, {"flooder", {"3"}}, {"deaf", {"3"}}},
          "  - name: hostile\n"
          "    rate: 0\n"
          "  - name: flooder\n"
          "    rate: 1\n"
          "    burst: 5\n"
          "  - name: deaf\n"
          "    rate: 0\n"
          "  - name: \"*\"\n");
    const std::string setspeed0 = kPolicy0 + "scaling_setspeed";
    const std::string setspeed1 = kPolicy1 + "scaling_setspeed";
    const std::string setspeed2 = kPolicy2 + "scaling_setspeed";

    // The bystander alternates up and down: every answer must be an ACK, in
    // a bounded time, and its CPU must follow.
    bool bystander_up = true;
    auto bystanderServed = [&](const char* after) {
        SCOPED_TRACE(std::string("bystander after: ") + after);
        const Bytes req = cpuPower(0, bystander_up ? VMPOWER_SCALE_UP : VMPOWER_SCALE_DOWN);
        EXPECT_EQ(hex(exchange("bystander", 0, req, kRecord, 2s)), hex(req));
        EXPECT_EQ(fixture_->read(setspeed0), bystander_up ? "1800000\n" : "1600000\n");
        EXPECT_EQ(channel("bystander", 0).state(), Channel::State::Connected);
        bystander_up = !bystander_up;
    };
    // A query as a marker: its 88-byte reply is the next thing on the stream
    // only if nothing was answered to what came before it.
    auto marker = [&](const std::string& vm, unsigned ch) {
        Bytes r = exchange(vm, ch, packet(VMPOWER_QUERY_FREQ, 0, 0xabcd), VMPOWER_FREQ_LIST_SIZE);
        EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, unit)), 0xabcdu);
        EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, command)), VMPOWER_FREQ_LIST);
    };
    bystanderServed("start");

    {
        SCOPED_TRACE("a record split over two writes, loop turns in between");
        const Bytes req = cpuPower(0, VMPOWER_SCALE_MIN);
        ASSERT_TRUE(q("hostile", 0).sendAll(*agent_, Bytes(req.begin(), req.begin() + 100)));
        ASSERT_TRUE(
            runUntil(*agent_, [&] { return channel("hostile", 0).stats().bytes_in == 100; }));
        int turns = 0;  // a few more loop turns (each ends within runUntil's 10 ms tick)
        runUntil(*agent_, [&] { return turns++ == 5; });
        q("hostile", 0).pump();
        EXPECT_TRUE(q("hostile", 0).inbox().empty()) << "no reply to half a record";
        EXPECT_EQ(channel("hostile", 0).state(), Channel::State::Connected);
        bystanderServed("half a record");  // and the half record waits meanwhile
        ASSERT_TRUE(q("hostile", 0).sendAll(*agent_, Bytes(req.begin() + 100, req.end())));
        EXPECT_EQ(hex(receive(q("hostile", 0), kRecord)), hex(req));
        EXPECT_EQ(fixture_->read(setspeed1), "800000\n");
    }
    bystanderServed("split record");

    {
        SCOPED_TRACE("three records in one write");
        const Bytes a = cpuPower(0, VMPOWER_SCALE_UP), b = cpuPower(0, VMPOWER_SCALE_UP),
                    c = withVmName(cpuPower(0, VMPOWER_SCALE_DOWN), "third");
        const Bytes three = concat({a, b, c});
        EXPECT_EQ(hex(exchange("hostile", 0, three, 3 * kRecord)), hex(three));
        EXPECT_EQ(fixture_->read(setspeed1),
                  "1000000\n");  // 800000 -> 1000000 -> 1200000 -> 1000000
        // And one and a half records twice: the halves join across writes.
        const Bytes d = cpuPower(0, VMPOWER_SCALE_UP);
        const Bytes all = concat({a, d, c});
        const auto cut = static_cast<std::ptrdiff_t>(kRecord + kRecord / 2);
        ASSERT_TRUE(q("hostile", 0).sendAll(*agent_, Bytes(all.begin(), all.begin() + cut)));
        ASSERT_TRUE(q("hostile", 0).sendAll(*agent_, Bytes(all.begin() + cut, all.end())));
        EXPECT_EQ(hex(receive(q("hostile", 0), all.size())), hex(all));
        EXPECT_EQ(fixture_->read(setspeed1),
                  "1200000\n");  // 1000000 -> 1200000 -> 1400000 -> 1200000
    }
    bystanderServed("three records");

    {
        SCOPED_TRACE("unknown commands and units");
        const TreeSnapshot before = fixture_->snapshot();
        const auto ignored = channel("hostile", 0).stats().requests.ignored;
        const Bytes unit7 = cpuPower(0, 7), unit0 = cpuPower(0, 0),
                    unit_huge = cpuPower(0, 0xffffffffu);
        ASSERT_TRUE(q("hostile", 0)
                        .sendAll(*agent_, concat({packet(11, 0, VMPOWER_SCALE_MAX),
                                                  packet(0, 0, VMPOWER_SCALE_MAX), unit7,
                                                  packet(0xffffffffu, 0, VMPOWER_SCALE_MAX), unit0,
                                                  packet(5, 0, 1), packet(6, 0, 1), unit_huge})));
        EXPECT_EQ(hex(receive(q("hostile", 0), kRecord)), hex(echo(unit7, VMPOWER_CMD_NACK)));
        EXPECT_EQ(hex(receive(q("hostile", 0), kRecord)), hex(echo(unit0, VMPOWER_CMD_NACK)));
        EXPECT_EQ(hex(receive(q("hostile", 0), kRecord)), hex(echo(unit_huge, VMPOWER_CMD_NACK)));
        marker("hostile", 0);  // unknown commands: no reply at all
        EXPECT_EQ(channel("hostile", 0).stats().requests.ignored, ignored + 5);
        EXPECT_EQ(diffTrees(before, fixture_->snapshot()), std::vector<std::string>{});
    }
    bystanderServed("unknown commands");

    {
        SCOPED_TRACE("garbage CONNECT");
        const TreeSnapshot before = fixture_->snapshot();
        const auto ignored = channel("hostile", 1).stats().requests.ignored;
        std::mt19937_64 rng(20240521);
        Bytes garbage_all;
        for (int i = 0; i < 3; ++i) {
            Bytes garbage(kRecord);
            for (auto& byte : garbage) byte = static_cast<std::byte>(rng() & 0xff);
            put(garbage, offsetof(vmpower_packet, command),
                std::uint32_t{VMPOWER_CPU_POWER_CONNECT});
            garbage_all.insert(garbage_all.end(), garbage.begin(), garbage.end());
        }
        ASSERT_TRUE(q("hostile", 1).sendAll(*agent_, garbage_all));
        marker("hostile", 1);  // no reply to any CONNECT
        EXPECT_EQ(channel("hostile", 1).stats().requests.ignored, ignored + 3);
        EXPECT_EQ(diffTrees(before, fixture_->snapshot()), std::vector<std::string>{});
    }
    bystanderServed("garbage CONNECT");

    {
        SCOPED_TRACE("vm_name of another VM");
        const TreeSnapshot before = fixture_->snapshot();
        // Fields full of junk too: echoed field by field, padding zeroed.
        Bytes req = withVmName(cpuPower(1, VMPOWER_SCALE_MAX), "bystander");
        for (std::size_t i = 48; i < 444; ++i) req[i] = static_cast<std::byte>(i * 7);
        for (std::size_t i = 445; i < kRecord; ++i) req[i] = static_cast<std::byte>(0xa5);
        const Bytes reply = exchange("hostile", 1, req, kRecord);
        EXPECT_EQ(hex(reply), hex(echo(req, VMPOWER_CMD_ACK)));
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(reply.data()) + 16), "bystander");
        // Its own vCPU 1 (pCPU 2, policy2), not the bystander's pCPU 0.
        EXPECT_EQ(diffTrees(before, fixture_->snapshot()),
                  (std::vector<std::string>{kPolicy2 + "scaling_governor", setspeed2}));
        EXPECT_EQ(fixture_->read(setspeed2), "3400000\n");
        // A query naming the bystander describes the asker's own vCPUs.
        Bytes r =
            exchange("hostile", 0, withVmName(packet(VMPOWER_QUERY_FREQ_LIST, 0), "bystander"),
                     VMPOWER_FREQ_LIST_SIZE);
        EXPECT_EQ(get<std::uint8_t>(r, offsetof(vmpower_freq_list, num_vcpu)), 2u);
        EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, freq_list)), 1200000u);
        EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, freq_list) + 4), 3400000u);
    }
    bystanderServed("vm_name of another VM");

    {
        SCOPED_TRACE("a flood over the rate limit (rate 1/s, burst 5)");
        constexpr std::size_t kFlood = 50;
        Bytes flood;
        for (std::size_t i = 0; i < kFlood; ++i) {
            const Bytes r = cpuPower(0, i % 2 ? VMPOWER_SCALE_DOWN : VMPOWER_SCALE_UP);
            flood.insert(flood.end(), r.begin(), r.end());
        }
        const Bytes replies = exchange("flooder", 0, flood, flood.size());
        ASSERT_EQ(replies.size(), flood.size());
        std::size_t acks = 0, nacks = 0;
        for (std::size_t i = 0; i < kFlood; ++i) {
            Bytes one(replies.begin() + static_cast<std::ptrdiff_t>(i * kRecord),
                      replies.begin() + static_cast<std::ptrdiff_t>((i + 1) * kRecord));
            Bytes asked(flood.begin() + static_cast<std::ptrdiff_t>(i * kRecord),
                        flood.begin() + static_cast<std::ptrdiff_t>((i + 1) * kRecord));
            const auto cmd = get<std::uint32_t>(one, 12);
            (cmd == VMPOWER_CMD_ACK ? acks : nacks)++;
            EXPECT_EQ(hex(one), hex(echo(asked, cmd))) << "reply " << i;
            if (i < 5) {
                EXPECT_EQ(cmd, VMPOWER_CMD_ACK) << "the burst is served";
            }
        }
        EXPECT_GE(acks, 5u);
        EXPECT_GT(nacks, 0u);
        const auto stats = channel("flooder", 0).stats();
        EXPECT_EQ(stats.requests.rate_limited, nacks);
        EXPECT_EQ(stats.requests.nacked, nacks);
        EXPECT_EQ(stats.requests.acked, acks);
    }
    bystanderServed("flood");

    {
        SCOPED_TRACE("a guest that never reads");
        int small = 4096;
        ASSERT_EQ(::setsockopt(q("deaf", 0).fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
        constexpr std::uint64_t kRequests = 5000;
        // vm_name is echoed, never read: it numbers the requests, so the
        // replies that get through show which ones were dropped.
        auto numbered = [](std::uint64_t i) {
            return withVmName(cpuPower(0, VMPOWER_SCALE_MAX), "req-" + std::to_string(i));
        };
        Bytes many;
        many.reserve(kRequests * kRecord);
        for (std::uint64_t i = 0; i < kRequests; ++i) {
            const Bytes one = numbered(i);
            many.insert(many.end(), one.begin(), one.end());
        }
        ASSERT_TRUE(q("deaf", 0).sendAll(*agent_, many));
        ASSERT_TRUE(runUntil(
            *agent_, [&] { return channel("deaf", 0).stats().requests.records == kRequests; },
            30s));
        auto stats = channel("deaf", 0).stats();
        EXPECT_EQ(stats.requests.acked, kRequests);
        EXPECT_GT(stats.replies_dropped, 0u);
        EXPECT_EQ(channel("deaf", 0).state(), Channel::State::Connected);
        EXPECT_EQ(fixture_->read(setspeed2), "3400000\n");
        bystanderServed("a guest that never reads");  // the loop is not wedged

        // When it finally reads: whole ACKs only, in order, the oldest
        // dropped first: whatever reached the socket before it filled, then
        // the newest reply_queue_records (64) replies.
        const std::uint64_t expected = kRequests - stats.replies_dropped;
        ASSERT_GE(expected, 64u);
        Bytes got = receive(q("deaf", 0), expected * kRecord, 30s);
        ASSERT_EQ(got.size(), expected * kRecord);
        std::vector<std::uint64_t> seq;
        for (std::uint64_t i = 0; i < expected; ++i) {
            const Bytes rec(got.begin() + static_cast<std::ptrdiff_t>(i * kRecord),
                            got.begin() + static_cast<std::ptrdiff_t>((i + 1) * kRecord));
            const std::string name(reinterpret_cast<const char*>(rec.data()) + 16);
            ASSERT_EQ(name.rfind("req-", 0), 0u) << "record " << i;
            seq.push_back(std::stoull(name.substr(4)));
            ASSERT_EQ(hex(rec), hex(numbered(seq.back()))) << "record " << i;
        }
        // seq = 0, 1, ..., a-1 (went out before the socket filled), then the
        // newest ones up to the last request (the queue's content).
        std::uint64_t through_socket = 0;
        while (through_socket < expected && seq[through_socket] == through_socket) ++through_socket;
        ASSERT_GT(through_socket, 0u) << "the first replies went out before anything was dropped";
        const std::uint64_t queued = expected - through_socket;
        EXPECT_GE(queued, 1u);
        EXPECT_LE(queued, 64u) << "no more than reply_queue_records wait in the queue";
        for (std::uint64_t i = through_socket; i < expected; ++i) {
            ASSERT_EQ(seq[i], kRequests - (expected - i))
                << "reply " << i << " of " << expected << ": the oldest must go first";
        }
        stats = channel("deaf", 0).stats();
        EXPECT_EQ(stats.replies_sent + stats.replies_dropped, kRequests);
        EXPECT_EQ(channel("deaf", 0).state(), Channel::State::Connected);
        // And it is still served normally.
        expectReply("deaf", 0, cpuPower(0, VMPOWER_SCALE_DOWN), VMPOWER_CMD_ACK);
        EXPECT_TRUE(q("deaf", 0).inbox().empty());
    }
    bystanderServed("deaf guest reads again");

    // Nobody lost a channel on the way.
    for (const char* vm : {"hostile", "bystander", "flooder", "deaf"}) {
        EXPECT_EQ(channel(vm, 0).state(), Channel::State::Connected) << vm;
        EXPECT_EQ(channel(vm, 0).stats().connects, 1u) << vm;
    }
    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// A channel that closes mid-record.

TEST_F(RequestPath, ChannelClosedMidRecordDropsThePartialAndTheNextConnectionStartsClean) {
    // acpi-cpufreq: vCPU 0 on pCPU 1 (policy1), scaling_cur_freq 1600000.
    start("acpi-cpufreq", {{"v", {"1"}}}, "  - name: \"*\"\n");
    const Bytes max = cpuPower(0, VMPOWER_SCALE_MAX);
    ASSERT_TRUE(q("v", 0).sendAll(*agent_, Bytes(max.begin(), max.begin() + 200)));
    ASSERT_TRUE(runUntil(*agent_, [&] { return channel("v", 0).stats().bytes_in == 200; }));
    ASSERT_TRUE(q("v", 0).pump());
    EXPECT_TRUE(q("v", 0).inbox().empty()) << "no reply to 200 of 464 bytes";

    // QEMU closes; the agent drops the 200 bytes and connects again.
    q("v", 0).hangUp();
    ASSERT_TRUE(runUntil(*agent_, [&] { return q("v", 0).accept(); }))
        << "the agent did not reconnect";
    ASSERT_TRUE(runUntil(*agent_, [&] {
        return channel("v", 0).stats().connects == 2 &&
               channel("v", 0).state() == Channel::State::Connected;
    }));
    auto stats = channel("v", 0).stats();
    EXPECT_EQ(stats.partial_dropped, 1u);
    EXPECT_EQ(stats.requests.records, 0u) << "half a record is no record";
    EXPECT_EQ(changed(), std::vector<std::string>{});

    // A whole request on the new connection is itself: had the 200 stale
    // bytes been kept, the agent would see SCALE_MAX's head glued to this
    // SCALE_UP's first 264 bytes (and set 3400000).
    const Bytes up = cpuPower(0, VMPOWER_SCALE_UP);
    expectReply("v", 0, up, VMPOWER_CMD_ACK);
    const Files want{{kPolicy1 + "scaling_governor", "userspace\n"},
                     {kPolicy1 + "scaling_setspeed", "1800000\n"}};  // one step up from 1600000
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);
    // Nothing else follows (a leftover 200 bytes would complete into a
    // second record with the next write; check with one more request).
    expectReply("v", 0, cpuPower(0, VMPOWER_SCALE_DOWN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy1 + "scaling_setspeed"), "1600000\n");
    EXPECT_TRUE(q("v", 0).inbox().empty());
    stats = channel("v", 0).stats();
    EXPECT_EQ(stats.partial_dropped, 1u);
    EXPECT_EQ(stats.requests.records, 2u);
    EXPECT_EQ(stats.requests.acked, 2u);
    EXPECT_EQ(stats.bytes_in, 200u + 2 * kRecord);

    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// multi_pcpu and shared_pcpus.

TEST_F(RequestPath, MultiPcpuOffRefusesAVcpuOnTwoPcpusOnScalesBothPolicyDomains) {
    // acpi-cpufreq (0->policy0, 1->policy1, 2,3->policy2, all at 1600000).
    // single: vCPU 0 on pCPUs 0 and 2 (policy0, policy2), vCPU 1 on pCPU 0.
    // multi: vCPU 0 on pCPUs 1 and 3 (policy1, policy2).
    start("acpi-cpufreq", {{"single", {"0,2", "0"}}, {"multi", {"1,3"}}},
          "  - name: single\n"
          "    multi_pcpu: false\n"
          "  - name: multi\n"
          "    multi_pcpu: true\n");
    for (std::uint32_t unit :
         {VMPOWER_SCALE_UP, VMPOWER_SCALE_MAX, VMPOWER_SCALE_MIN, VMPOWER_DISABLE_TURBO}) {
        SCOPED_TRACE(unitName(unit));
        expectReply("single", 0, cpuPower(0, unit), VMPOWER_CMD_NACK);
        EXPECT_EQ(changed(), std::vector<std::string>{});
    }
    EXPECT_EQ(channel("single", 0).stats().requests.nacked, 4u);
    // Its vCPU on one pCPU is served: the refusal was multi_pcpu's.
    expectReply("single", 1, cpuPower(1, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);

    // multi: one step up from 1600000 on both policy domains.
    expectReply("multi", 0, cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_CMD_ACK);
    const Files want{{kPolicy0 + "scaling_governor", "userspace\n"},
                     {kPolicy0 + "scaling_setspeed", "3400000\n"},
                     {kPolicy1 + "scaling_governor", "userspace\n"},
                     {kPolicy1 + "scaling_setspeed", "1800000\n"},
                     {kPolicy2 + "scaling_governor", "userspace\n"},
                     {kPolicy2 + "scaling_setspeed", "1800000\n"}};
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);

    stopAgent();
    expectTreeAsBefore();
}

TEST_F(RequestPath, SharedPcpusOffRefusesAPcpuAnotherRunningVmIsPinnedTo) {
    // acpi-cpufreq. a and b: vCPU 0 on pCPU 1 (policy1). alone: vCPUs 0
    // and 1 both on pCPU 0 (shared by its own vCPUs only).
    start("acpi-cpufreq", {{"a", {"1"}}, {"b", {"1"}}, {"alone", {"0", "0"}}},
          "  - name: a\n"
          "    shared_pcpus: false\n"
          "  - name: b\n"
          "    shared_pcpus: true\n"
          "  - name: alone\n"
          "    shared_pcpus: false\n");
    for (std::uint32_t unit : {VMPOWER_SCALE_MAX, VMPOWER_SCALE_DOWN, VMPOWER_ENABLE_TURBO}) {
        SCOPED_TRACE(unitName(unit));
        expectReply("a", 0, cpuPower(0, unit), VMPOWER_CMD_NACK);
        EXPECT_EQ(changed(), std::vector<std::string>{});
    }
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    const Files b_max{{kPolicy1 + "scaling_governor", "userspace\n"},
                      {kPolicy1 + "scaling_setspeed", "3400000\n"}};
    EXPECT_EQ(changed(), keys(b_max));
    expectFiles(b_max);
    // a is still refused while b runs; b's level stands.
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_NACK);
    expectFiles(b_max);

    // Sharing with one's own vCPUs is not sharing with another VM.
    expectReply("alone", 1, cpuPower(1, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy0 + "scaling_setspeed"), "800000\n");

    // b stops: pCPU 1 is a's alone now, and policy1 is restored (b held it).
    auto dom = lookup(*agent_, "b");
    ASSERT_EQ(virDomainDestroy(dom.get()), 0);
    ASSERT_TRUE(runUntil(*agent_, [&] { return agent_->registry().find(uuids_["b"]) == nullptr; }));
    const Files alone_only{{kPolicy0 + "scaling_governor", "userspace\n"},
                           {kPolicy0 + "scaling_setspeed", "800000\n"}};
    EXPECT_EQ(changed(), keys(alone_only));
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_CMD_ACK);  // 1600000 -> 1800000
    EXPECT_EQ(fixture_->read(kPolicy1 + "scaling_setspeed"), "1800000\n");
    EXPECT_EQ(channel("a", 0).stats().requests.nacked, 4u);
    EXPECT_EQ(channel("a", 0).stats().requests.acked, 1u);

    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// Policy reload: record_format switched, and an invalid file changes nothing.

TEST_F(RequestPath, ReloadSwitchesRecordFormatAndAnInvalidFileKeepsTheOldRule) {
    // acpi-cpufreq. fmt: vCPU 0 on pCPU 1 (policy1). other: pCPU 0.
    start("acpi-cpufreq", {{"fmt", {"1"}}, {"other", {"0"}}},
          "  - name: fmt\n"
          "    record_format: dpdk-464\n"
          "  - name: other\n");
    const std::string setspeed1 = kPolicy1 + "scaling_setspeed";
    expectReply("fmt", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(setspeed1), "3400000\n");

    // Half a 464-byte record is in when the format changes: it is dropped
    // (docs/policy.md), not re-cut into 16-byte records.
    const Bytes half = cpuPower(0, VMPOWER_SCALE_MIN);
    ASSERT_TRUE(q("fmt", 0).sendAll(*agent_, Bytes(half.begin(), half.begin() + 100)));
    ASSERT_TRUE(
        runUntil(*agent_, [&] { return channel("fmt", 0).stats().bytes_in == kRecord + 100; }));
    writeConfig(
        "  - name: fmt\n"
        "    record_format: legacy-16\n"
        "  - name: other\n");
    ASSERT_TRUE(agent_->reload());
    {
        SCOPED_TRACE("after the reload to legacy-16");
        const Bytes down = legacy(VMPOWER_CPU_POWER, 0, VMPOWER_SCALE_DOWN);
        const Bytes reply = exchange("fmt", 0, down, VMPOWER_PACKET_V1_SIZE);
        EXPECT_EQ(hex(reply), hex(down)) << "a 16-byte ACK, the request echoed";
        EXPECT_EQ(fixture_->read(setspeed1), "3200000\n");
        // Exactly 16 bytes: the next 16-byte request's reply follows at once.
        const Bytes down2 = legacy(VMPOWER_CPU_POWER, 0, VMPOWER_SCALE_DOWN);
        EXPECT_EQ(hex(exchange("fmt", 0, down2, VMPOWER_PACKET_V1_SIZE)), hex(down2));
        EXPECT_EQ(fixture_->read(setspeed1), "3000000\n");
        EXPECT_TRUE(q("fmt", 0).inbox().empty());
        EXPECT_EQ(channel("fmt", 0).state(), Channel::State::Connected);
        EXPECT_EQ(channel("fmt", 0).stats().requests.records, 3u) << "the half record is no record";
        EXPECT_EQ(channel("fmt", 0).stats().partial_dropped, 1u) << "and it is counted as dropped";
        // The other VM's rule did not change: still 464-byte records.
        expectReply("other", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    }

    // An invalid file (an unknown key) that, were it applied, would deny
    // fmt every command and go back to 464 bytes.
    writeConfig(
        "  - name: fmt\n"
        "    commands: []\n"
        "    colour: red\n");
    EXPECT_FALSE(agent_->reload());
    {
        SCOPED_TRACE("after the rejected reload");
        const Bytes up = legacy(VMPOWER_CPU_POWER, 0, VMPOWER_SCALE_UP);
        EXPECT_EQ(hex(exchange("fmt", 0, up, VMPOWER_PACKET_V1_SIZE)), hex(up));
        EXPECT_EQ(fixture_->read(setspeed1), "3200000\n");
        EXPECT_TRUE(q("fmt", 0).inbox().empty());
        expectReply("other", 0, cpuPower(0, VMPOWER_SCALE_DOWN),
                    VMPOWER_CMD_ACK);  // 3400000 -> 3200000
        EXPECT_EQ(fixture_->read(kPolicy0 + "scaling_setspeed"), "3200000\n");
    }
    EXPECT_EQ(channel("fmt", 0).stats().requests.acked, 4u);
    EXPECT_EQ(channel("fmt", 0).stats().requests.nacked, 0u);

    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// floor_khz / ceiling_khz.

TEST_F(RequestPath, CeilingAndFloorBoundMaxAndMinOnTheFrequencyList) {
    // acpi-cpufreq: steps 800000..3400000 every 200000. lim: vCPU 0 on
    // pCPU 1 (policy1), vCPU 1 on pCPU 2 (policy2); free: pCPU 0 (policy0).
    start("acpi-cpufreq", {{"lim", {"1", "2"}}, {"free", {"0"}}},
          "  - name: lim\n"
          "    floor_khz: 1100000\n"
          "    ceiling_khz: 2500000\n"
          "  - name: free\n");
    // max: the highest step <= 2500000 is 2400000.
    expectReply("lim", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy1 + "scaling_setspeed"), "2400000\n");
    // min: the lowest step >= 1100000 is 1200000.
    expectReply("lim", 1, cpuPower(1, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy2 + "scaling_setspeed"), "1200000\n");
    // Steps stop at the bounds too.
    expectReply("lim", 0, cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy1 + "scaling_setspeed"), "2400000\n");
    expectReply("lim", 1, cpuPower(1, VMPOWER_SCALE_DOWN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy2 + "scaling_setspeed"), "1200000\n");
    // Without limits, max is the hardware's 3400000.
    expectReply("free", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    const Files want{{kPolicy0 + "scaling_governor", "userspace\n"},
                     {kPolicy0 + "scaling_setspeed", "3400000\n"},
                     {kPolicy1 + "scaling_governor", "userspace\n"},
                     {kPolicy1 + "scaling_setspeed", "2400000\n"},
                     {kPolicy2 + "scaling_governor", "userspace\n"},
                     {kPolicy2 + "scaling_setspeed", "1200000\n"}};
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);
    stopAgent();
    expectTreeAsBefore();
}

TEST_F(RequestPath, CeilingAndFloorBoundMaxAndMinOnLinearSteps) {
    // intel_pstate: no frequency list, steps of 100000 from 400000 to
    // 4700000; min/max backend (both limits pinned to the level). One
    // policy per CPU. lim: vCPU 0 on pCPU 1, vCPU 1 on pCPU 2.
    start("intel_pstate", {{"lim", {"1", "2"}}},
          "  - name: lim\n"
          "    floor_khz: 1150000\n"
          "    ceiling_khz: 2550000\n");
    expectReply("lim", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    expectReply("lim", 1, cpuPower(1, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    const Files want{{kPolicy1 + "scaling_max_freq", "2500000\n"},  // was 4700000
                     {kPolicy1 + "scaling_min_freq", "2500000\n"},  // was 400000
                     {kPolicy2 + "scaling_max_freq", "1200000\n"},
                     {kPolicy2 + "scaling_min_freq", "1200000\n"}};
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);
    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// rate: 0 is unlimited.

TEST_F(RequestPath, RateZeroServesABurstOf200WithoutRateLimiting) {
    // acpi-cpufreq: vCPU 0 on pCPU 1 (policy1, 1600000). burst 1 would
    // refuse the second request at once if the rate counted at all.
    start("acpi-cpufreq", {{"fast", {"1"}}},
          "  - name: fast\n"
          "    rate: 0\n"
          "    burst: 1\n");
    constexpr std::size_t kBurst = 200;
    std::size_t acks = 0;
    for (std::size_t i = 0; i < kBurst; ++i) {
        const Bytes req = cpuPower(0, i % 2 == 0 ? VMPOWER_SCALE_UP : VMPOWER_SCALE_DOWN);
        const Bytes reply = exchange("fast", 0, req, kRecord);
        if (reply != req) {
            ADD_FAILURE() << "request " << i << ": " << hex(reply);
            break;
        }
        ++acks;
    }
    EXPECT_EQ(acks, kBurst);
    const auto stats = channel("fast", 0).stats();
    EXPECT_EQ(stats.requests.records, kBurst);
    EXPECT_EQ(stats.requests.acked, kBurst);
    EXPECT_EQ(stats.requests.nacked, 0u);
    EXPECT_EQ(stats.requests.rate_limited, 0u);
    // up, down, ... (an even count): back at 1600000.
    const Files want{{kPolicy1 + "scaling_governor", "userspace\n"},
                     {kPolicy1 + "scaling_setspeed", "1600000\n"}};
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);
    stopAgent();
    expectTreeAsBefore();
}

}  // namespace
}  // namespace vmpower::test

// Does the cost of one request grow with the number of channels?
//
// An in-process Agent on libvirt's test driver (test:///<node.xml>) whose
// domains carry N poweragent channels in total; the bench plays QEMU on
// every socket (listens, accepts the agent's connection). One request on one
// channel is timed as a round trip: write a 464-byte CPU_POWER record, run
// agent.runOnce() until the 464-byte ACK is readable. The other N-1 channels
// stay connected and idle (or, in the backoff variant, a share of them has
// no socket and sits in reconnect backoff on the RetryScheduler).
//
// `--started-to-connected CHANNELS ROUNDS`: STARTED event -> channels connected.
// Also: `channel_scaling_bench --instructions N ROUNDTRIPS [MISSING%]` runs
// ROUNDTRIPS round trips inside measuredRoundTrips() for callgrind
// (--collect-atstart=no --toggle-collect='*measuredRoundTrips*').
//
// Method and results: bench/README.md.
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent_harness.h"
#include "power_setup.h"
#include "sysfs_fixture.h"
#include "unique_fd.h"
#include "vmpower/protocol.h"

namespace vmpower::bench {
namespace {

using namespace std::chrono_literals;

constexpr unsigned kChannelsPerDomain = 30;  // one virtio-serial controller's ports

// QEMU's side of one chardev: listens, accepts the agent.
class QemuEnd {
  public:
    explicit QemuEnd(const std::filesystem::path& path) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const std::string p = path.string();
        if (p.size() >= sizeof addr.sun_path)
            throw std::runtime_error("socket path too long: " + p);
        std::memcpy(addr.sun_path, p.data(), p.size());
        listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!listen_ ||
            ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
            ::listen(listen_.get(), 4) < 0) {
            throw std::runtime_error("listen " + p + ": " + std::strerror(errno));
        }
    }
    bool accept() {
        if (conn_) return true;
        conn_.reset(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        return conn_.valid();
    }
    int fd() const { return conn_.get(); }
    // QEMU's side of a stopped domain: the agent closed its end.
    bool peerClosed() const {
        char b;
        return conn_ && ::recv(conn_.get(), &b, 1, MSG_DONTWAIT | MSG_PEEK) == 0;
    }
    void drop() { conn_.reset(); }

  private:
    UniqueFd listen_;
    UniqueFd conn_;
};

std::vector<std::byte> record(std::uint32_t unit) {
    vmpower_packet p;
    std::memset(&p, 0, sizeof p);
    p.command = VMPOWER_CPU_POWER;
    p.unit = unit;
    p.resource_id = 0;  // vCPU 0 of domain 0, pinned to pCPU 1
    std::vector<std::byte> out(sizeof p);
    std::memcpy(out.data(), &p, sizeof p);
    return out;
}

std::string uuidOf(unsigned d) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012u", d);
    return buf;
}

// Domain 0 runs on pCPU 1 (its own cpufreq policy1), every other domain on
// pCPU 0: d0 is then policy1's only stakeholder and its SCALE_DOWN is ACKed.
// (Unpinned, every domain would share policy1 and every request below the
// found ceiling would be refused by the shared-hardware rule: the bench would
// time NACKs.)
std::string cputune(unsigned d) {
    const std::string cpu = d == 0 ? "1" : "0";
    return "<cputune><vcpupin vcpu='0' cpuset='" + cpu + "'/><vcpupin vcpu='1' cpuset='" + cpu +
           "'/><emulatorpin cpuset='" + cpu + "'/></cputune>";
}

// One agent with N channels; built once per (N, missing%) and kept while
// consecutive benchmark runs (repetitions) use the same shape.
struct Env {
    Env(unsigned channels, unsigned missing_percent) : n(channels), missing_pct(missing_percent) {
        spdlog::set_level(spdlog::level::err);  // 4000 "connected" lines otherwise
        const unsigned domains = (n + kChannelsPerDomain - 1) / kChannelsPerDomain;
        std::string xml = "<node><cpu><mode>host-model</mode></cpu>\n";
        unsigned made = 0, missing_so_far = 0;
        for (unsigned d = 0; d < domains; ++d) {
            xml += "<domain type='test'><name>d" + std::to_string(d) + "</name><uuid>" + uuidOf(d) +
                   "</uuid><memory>1048576</memory><vcpu>2</vcpu>" + cputune(d) +
                   "<os><type>hvm</type></os>"
                   "<devices><controller type='virtio-serial' index='0'/>\n";
            for (unsigned c = 0; c < kChannelsPerDomain && made < n; ++c, ++made) {
                auto path = dir.path() / ("s" + std::to_string(made));
                xml += "<channel type='unix'><source mode='bind' path='" + path.string() +
                       "'/><target type='virtio' name='virtio.serial.port.poweragent." +
                       std::to_string(c) + "'/></channel>\n";
                // Spread the missing sockets evenly; channel 0 (measured) always exists.
                bool absent = made > 0 && (made * missing_pct) / 100 > missing_so_far;
                if (absent) {
                    ++missing_so_far;
                } else {
                    qemu.push_back(std::make_unique<QemuEnd>(path));
                }
            }
            xml += "</devices></domain>\n";
        }
        xml += "</node>\n";
        this->missing = missing_so_far;
        test::writeFile(dir.path() / "node.xml", xml);

        fixture = std::make_unique<test::SysfsFixture>("acpi-cpufreq");
        Config cfg = parseConfig(
            test::agentYaml(dir.path(), fixture->root(), false, "  - name: \"*\"\n    rate: 0\n"),
            "bench.yaml");
        power = makeArbiterFor(cfg.agent);
        AgentOptions opts;
        opts.uri = "test://" + (dir.path() / "node.xml").string();
        opts.handle_signals = false;
        opts.notify_systemd = false;
        agent = std::make_unique<Agent>(opts, cfg, *power);
        // Keeps runOnce() from blocking forever should a reply never come.
        heartbeat = std::make_unique<EventLoop::Timer>([this] { heartbeat->arm(100ms); });
        heartbeat->arm(100ms);
        agent->start();
        if (!test::runUntil(
                *agent, [&] { return agent->ready(); }, 60s)) {
            throw std::runtime_error("agent not ready");
        }
        // The agent connected synchronously while reconciling; accept them all.
        bool all = test::runUntil(
            *agent,
            [&] {
                bool ok = true;
                for (auto& q : qemu) ok = q->accept() && ok;
                return ok;
            },
            60s);
        if (!all) throw std::runtime_error("not every channel connected");

        auto dom = test::lookup(*agent, "d0");
        unsigned char map = 0x02;  // vCPU 0 -> pCPU 1 (policy1 of the fixture)
        if (virDomainPinVcpu(dom.get(), 0, &map, 1) != 0) throw std::runtime_error("pin");
        agent->hypervisor().handleTunable(uuidOf(0), {{"cputune.vcpupin0", "1"}});

        std::size_t connected = 0;
        for (const auto& [uuid, d] : agent->registry().domains()) {
            for (const auto& [idx, ch] : d->channels) {
                connected += ch->state() == Channel::State::Connected ? 1 : 0;
            }
        }
        if (connected != qemu.size()) {
            throw std::runtime_error("connected " + std::to_string(connected) + " of " +
                                     std::to_string(qemu.size()));
        }
        // Warm up: journal written, governor switched, caches filled.
        for (int i = 0; i < 100; ++i) roundTrip(i % 2 == 0 ? up : down);
    }

    ~Env() {
        agent.reset();  // closes channels first
        heartbeat.reset();
    }

    // Writes one record on channel 0, turns the loop until the whole ACK
    // arrived. Returns the loop turns it took (0: no reply).
    unsigned roundTrip(const std::vector<std::byte>& req) {
        const int fd = qemu.front()->fd();
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
            return 0;
        }
        std::size_t got = 0;
        for (unsigned turns = 1; turns <= 10000; ++turns) {
            agent->runOnce();
            ssize_t r;
            while ((r = ::recv(fd, reply + got, sizeof reply - got, MSG_DONTWAIT)) > 0) {
                got += static_cast<std::size_t>(r);
            }
            if (got >= VMPOWER_PACKET_SIZE) {
                std::uint32_t cmd;
                std::memcpy(&cmd, reply + offsetof(vmpower_packet, command), sizeof cmd);
                return cmd == VMPOWER_CMD_ACK ? turns : 0;
            }
        }
        return 0;
    }

    unsigned n, missing_pct, missing = 0;
    test::TempDir dir;
    std::vector<std::unique_ptr<QemuEnd>> qemu;  // [0] is the measured channel
    std::unique_ptr<test::SysfsFixture> fixture;
    std::unique_ptr<Arbiter> power;
    std::unique_ptr<Agent> agent;
    std::unique_ptr<EventLoop::Timer> heartbeat;
    const std::vector<std::byte> up = record(VMPOWER_SCALE_UP);
    const std::vector<std::byte> down = record(VMPOWER_SCALE_DOWN);
    char reply[VMPOWER_PACKET_SIZE * 2];
};

std::unique_ptr<Env> g_env;

Env& envFor(unsigned n, unsigned missing_pct) {
    if (!g_env || g_env->n != n || g_env->missing_pct != missing_pct) {
        g_env.reset();  // never two at once: file descriptors
        g_env = std::make_unique<Env>(n, missing_pct);
        if (missing_pct > 0) {
            // Let the backoff reach its 5 s ceiling (50 ms doubling: the
            // 8th attempt is at 6.35 s), so what is measured is the steady
            // state, not the first seconds' burst of 50 ms retries.
            const char* w = std::getenv("VMPOWER_BENCH_BACKOFF_WARMUP_MS");
            auto warm = std::chrono::milliseconds(w ? std::atoi(w) : 6500);
            test::runUntil(
                *g_env->agent, [] { return false; }, warm);
        }
    }
    return *g_env;
}

void BM_RoundTrip(benchmark::State& st) {
    Env* env = nullptr;
    try {
        env = &envFor(static_cast<unsigned>(st.range(0)), static_cast<unsigned>(st.range(1)));
    } catch (const std::exception& e) {
        st.SkipWithError(e.what());
        for (auto _ : st) {
        }
        return;
    }
    std::vector<double> us;
    us.reserve(1 << 20);
    std::uint64_t turns = 0;
    bool flip = false;
    for (auto _ : st) {
        auto t0 = std::chrono::steady_clock::now();
        unsigned t = env->roundTrip(flip ? env->up : env->down);
        auto t1 = std::chrono::steady_clock::now();
        flip = !flip;
        if (t == 0) {
            st.SkipWithError("no ACK");
            break;
        }
        turns += t;
        if (us.size() < us.capacity()) {
            us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        }
    }
    if (us.empty()) return;
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) {
        return us[static_cast<std::size_t>(p * static_cast<double>(us.size() - 1))];
    };
    st.counters["channels"] = env->n;
    st.counters["in_backoff"] = env->missing;
    st.counters["turns_per_rt"] = static_cast<double>(turns) / static_cast<double>(us.size());
    st.counters["p50_us"] = pct(0.50);
    st.counters["p99_us"] = pct(0.99);
    st.counters["max_us"] = us.back();
}

BENCHMARK(BM_RoundTrip)
    ->ArgNames({"channels", "backoff_pct"})
    ->Args({1, 0})
    ->Args({10, 0})
    ->Args({100, 0})
    ->Args({1000, 0})
    ->Args({4000, 0})
    ->Unit(benchmark::kMicrosecond);

// A quarter of the channels have no socket: they sit in the RetryScheduler
// (one loop timer for all of them) and retry every 5 s.
BENCHMARK(BM_RoundTrip)
    ->Name("BM_RoundTrip_QuarterInBackoff")
    ->ArgNames({"channels", "backoff_pct"})
    ->Args({100, 25})
    ->Args({1000, 25})
    ->Args({4000, 25})
    ->Unit(benchmark::kMicrosecond);

// The same round trip, but each one's thread CPU time (preemption by other
// load on the machine does not count) over >= 6 s, so that one 5 s retry
// cycle of the channels in backoff falls inside the measurement. Shows
// whether some turns run many reconnect attempts at once.
double threadCpuUs() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

void BM_RoundTripCpuOverARetryCycle(benchmark::State& st) {
    Env* env = nullptr;
    try {
        env = &envFor(static_cast<unsigned>(st.range(0)), static_cast<unsigned>(st.range(1)));
    } catch (const std::exception& e) {
        st.SkipWithError(e.what());
        for (auto _ : st) {
        }
        return;
    }
    double max_us = 0;
    std::uint64_t over_1ms = 0, count = 0;
    bool flip = false;
    for (auto _ : st) {
        double t0 = threadCpuUs();
        unsigned t = env->roundTrip(flip ? env->up : env->down);
        double us = threadCpuUs() - t0;
        flip = !flip;
        if (t == 0) {
            st.SkipWithError("no ACK");
            break;
        }
        max_us = std::max(max_us, us);
        over_1ms += us > 1000 ? 1 : 0;
        ++count;
    }
    st.counters["channels"] = env->n;
    st.counters["in_backoff"] = env->missing;
    st.counters["max_cpu_us"] = max_us;
    st.counters["rt_over_1ms_cpu"] = static_cast<double>(over_1ms);
}
BENCHMARK(BM_RoundTripCpuOverARetryCycle)
    ->ArgNames({"channels", "backoff_pct"})
    ->Args({4000, 25})  // reuses the previous benchmark's agent
    ->Args({4000, 0})
    ->Args({4000, 100})
    ->MinTime(6.0)
    ->Repetitions(1)
    ->Unit(benchmark::kMicrosecond);

// What one reconnect attempt of a channel whose socket is missing costs
// (what RetryScheduler::runDue runs per due entry): close() + open() =
// cancel, socket(), connect() -> ENOENT, note the (unchanged) error,
// schedule the next attempt. Multiply by the channels that fall due in the
// same turn to get that turn's extra latency.
void BM_ReconnectAttempt(benchmark::State& st) {
    Env* env = nullptr;
    try {
        env = &envFor(static_cast<unsigned>(st.range(0)), static_cast<unsigned>(st.range(1)));
    } catch (const std::exception& e) {
        st.SkipWithError(e.what());
        for (auto _ : st) {
        }
        return;
    }
    std::vector<Channel*> waiting;
    for (const auto& [uuid, d] : env->agent->registry().domains()) {
        for (auto& [idx, ch] : d->channels) {
            if (ch->state() == Channel::State::Connecting) waiting.push_back(ch.get());
        }
    }
    if (waiting.empty()) {
        st.SkipWithError("no channel in backoff");
        for (auto _ : st) {
        }
        return;
    }
    std::size_t i = 0;
    for (auto _ : st) {
        Channel* ch = waiting[i];
        i = i + 1 == waiting.size() ? 0 : i + 1;
        ch->close();
        ch->open();
    }
    st.counters["in_backoff"] = static_cast<double>(waiting.size());
}
BENCHMARK(BM_ReconnectAttempt)
    ->ArgNames({"channels", "backoff_pct"})
    ->Args({4000, 100})  // reuses the agent of the benchmark before
    ->Unit(benchmark::kMicrosecond);

void raiseFdLimit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    // 3 fds per channel (listener, QEMU's accepted end, the agent's end).
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 3 * 4000 + 256) {
        std::fprintf(stderr, "warning: RLIMIT_NOFILE %llu is too low for 4000 channels\n",
                     static_cast<unsigned long long>(rl.rlim_cur));
    }
}

// callgrind counts instructions from entry to return of this function only
// (--toggle-collect='*measuredRoundTrips*').
[[gnu::noinline]] unsigned measuredRoundTrips(Env& env, unsigned count) {
    unsigned bad = 0;
    for (unsigned i = 0; i < count; ++i) {
        bad += env.roundTrip(i % 2 == 0 ? env.up : env.down) == 0 ? 1 : 0;
    }
    return bad;
}

// A domain's STARTED event -> all its channels connected, through the
// agent's own test-driver connection: destroy d0 (its channels close), then
// time virDomainCreate -> every one of its sockets accepted. Prints p50/max.
int startedToConnected(unsigned channels, unsigned rounds) {
    auto& env = envFor(channels, 0);
    std::vector<double> ms;
    for (unsigned r = 0; r < rounds; ++r) {
        auto dom = test::lookup(*env.agent, "d0");
        if (virDomainDestroy(dom.get()) != 0) return 1;
        bool closed = test::runUntil(*env.agent, [&] {
            for (auto& q : env.qemu)
                if (!q->peerClosed()) return false;
            return true;
        });
        if (!closed) return 1;
        for (auto& q : env.qemu) q->drop();
        const auto t0 = std::chrono::steady_clock::now();
        if (virDomainCreate(dom.get()) != 0) return 1;
        bool all = test::runUntil(*env.agent, [&] {
            bool ok = true;
            for (auto& q : env.qemu) ok = q->accept() && ok;
            return ok;
        });
        if (!all) return 1;
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("started_to_connected channels=%u rounds=%u p50_ms=%.3f max_ms=%.3f\n", channels,
                rounds, ms[ms.size() / 2], ms.back());
    return 0;
}

}  // namespace
}  // namespace vmpower::bench

int main(int argc, char** argv) {
    vmpower::bench::raiseFdLimit();
    vmpower::EventLoop::registerImpl();
    if (argc >= 4 && std::strcmp(argv[1], "--instructions") == 0) {
        unsigned n = static_cast<unsigned>(std::atoi(argv[2]));
        unsigned count = static_cast<unsigned>(std::atoi(argv[3]));
        unsigned missing = argc >= 5 ? static_cast<unsigned>(std::atoi(argv[4])) : 0;
        auto& env = vmpower::bench::envFor(n, missing);
        unsigned bad = vmpower::bench::measuredRoundTrips(env, count);
        std::printf("channels=%u in_backoff=%u roundtrips=%u failed=%u\n", n, env.missing, count,
                    bad);
        vmpower::bench::g_env.reset();
        return bad == 0 ? 0 : 1;
    }
    if (argc >= 4 && std::strcmp(argv[1], "--started-to-connected") == 0) {
        spdlog::set_level(spdlog::level::err);
        int rc = vmpower::bench::startedToConnected(static_cast<unsigned>(std::atoi(argv[2])),
                                                    static_cast<unsigned>(std::atoi(argv[3])));
        vmpower::bench::g_env.reset();
        return rc;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    vmpower::bench::g_env.reset();
    return 0;
}

// vmpower-loadgen: plays QEMU on N channels and drives a server with
// 464-byte SCALE_UP/SCALE_DOWN records, closed loop (one in flight per
// channel). Prints one line of key=value pairs; scripts/bench.sh makes the
// table. Method: docs/benchmarks.md.
//
//   vmpower-loadgen latency --server floor|vmpowerd --channels N [--seconds S]
//                   [--gen-cpu A --server-cpu B] [--vmpowerd PATH --fixture DIR]
//   vmpower-loadgen latency --server external --channels N --socket-dir DIR
//                   (another server, e.g. DPDK's vm_power_mgr, connects to DIR/s<i>)
//   vmpower-loadgen scale --domains D --per-domain C [--idle-seconds T]
//                   --vmpowerd PATH --fixture DIR
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "closed_loop.h"
#include "qemu_side.h"
#include "servers.h"

namespace fs = std::filesystem;
using namespace vmpower::bench;
using Clock = std::chrono::steady_clock;

namespace {

// A scratch directory on $TMPDIR (a tmpfs in bench.sh), removed at exit.
class Scratch {
  public:
    Scratch() {
        const char* t = std::getenv("TMPDIR");
        std::string tmpl = std::string(t ? t : "/dev/shm") + "/vmpb.XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl);
        path_ = tmpl;
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

void raiseFdLimit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

// A failed start is explained by vmpowerd's own words.
void dumpLog(const fs::path& log) {
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) std::fprintf(stderr, "vmpowerd: %s\n", line.c_str());
}

struct Options {
    std::string server = "vmpowerd";
    unsigned channels = 64;
    double seconds = 5;
    unsigned warmup_ms = 500;
    int gen_cpu = -1, server_cpu = -1;
    std::string vmpowerd, fixture, socket_dir;
    unsigned domains = 1000, per_domain = 8;
    double idle_seconds = 0;
};

VmpowerdSetup vmpowerdSetup(const Options& o, const fs::path& dir, unsigned domains,
                            unsigned per_domain) {
    if (o.vmpowerd.empty() || o.fixture.empty())
        throw std::runtime_error("--vmpowerd and --fixture are needed");
    return VmpowerdSetup{o.vmpowerd, o.fixture, dir, domains, per_domain, dir / "q"};
}

int latency(const Options& o) {
    Scratch scratch;
    pinTo(o.gen_cpu);
    const fs::path qdir = o.server == "external" ? fs::path(o.socket_dir) : scratch.path() / "q";
    fs::create_directories(qdir);
    QemuSide qemu(qdir, o.channels);
    ServerProcess server;
    ReplyKind kind = ReplyKind::Ack;
    if (o.server == "floor") {
        std::vector<fs::path> paths;
        for (unsigned i = 0; i < o.channels; ++i) paths.push_back(qemu.path(i));
        server = startEchoFloor(paths, o.server_cpu);
        kind = ReplyKind::Echo;
    } else if (o.server == "vmpowerd") {
        const unsigned per = std::min(o.channels, 32u);
        server = startVmpowerd(vmpowerdSetup(o, scratch.path(), (o.channels + per - 1) / per, per),
                               o.server_cpu);
    } else if (o.server != "external") {
        throw std::runtime_error("unknown server " + o.server);
    }
    const auto connected = qemu.acceptAll(Clock::now() + std::chrono::seconds(60));
    if (!qemu.allConnected()) {
        std::printf("server=%s channels=%u error=connected_%u\n", o.server.c_str(), o.channels,
                    connected);
        dumpLog(scratch.path() / "vmpowerd.log");
        return 1;
    }
    const auto primed = primeChannels(qemu.connections(), kind, std::chrono::seconds(10));
    LoopResult r = runClosedLoop(qemu.connections(), kind, std::chrono::milliseconds(o.warmup_ms),
                                 std::chrono::milliseconds(static_cast<long>(o.seconds * 1000)));
    std::printf(
        "server=%s channels=%u gen_cpu=%d server_cpu=%d primed=%llu requests=%llu good=%llu "
        "bad=%llu lost=%llu seconds=%.2f rps=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f "
        "max_us=%.1f\n",
        o.server.c_str(), o.channels, o.gen_cpu, o.server_cpu,
        static_cast<unsigned long long>(primed), static_cast<unsigned long long>(r.requests),
        static_cast<unsigned long long>(r.good), static_cast<unsigned long long>(r.bad),
        static_cast<unsigned long long>(r.lost), r.seconds, r.rps(), r.p50_us, r.p99_us,
        r.p999_us, r.max_us);
    return r.requests > 0 && r.bad == 0 && r.lost == 0 && primed == o.channels ? 0 : 1;
}

int scale(const Options& o) {
    Scratch scratch;
    fs::create_directories(scratch.path() / "q");
    QemuSide qemu(scratch.path() / "q", o.domains * o.per_domain);
    const auto t0 = Clock::now();
    ServerProcess server =
        startVmpowerd(vmpowerdSetup(o, scratch.path(), o.domains, o.per_domain), o.server_cpu);
    qemu.acceptAll(t0 + std::chrono::seconds(120));
    const double connect_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!qemu.allConnected()) {
        std::printf("domains=%u per_domain=%u error=not_all_connected\n", o.domains, o.per_domain);
        dumpLog(scratch.path() / "vmpowerd.log");
        return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));  // let start-up settle
    const auto rss = residentKb(server.pid());
    std::printf("domains=%u per_domain=%u channels=%u connect_all_ms=%.0f rss_kb=%llu",
                o.domains, o.per_domain, qemu.size(), connect_ms,
                static_cast<unsigned long long>(rss.value_or(0)));
    // Its CPU time so far (start-up, connecting): shows the counter works.
    const auto c0 = cpuNs(server.pid());
    std::printf(" startup_cpu_ms=%.0f", static_cast<double>(c0.value_or(0)) / 1e6);
    if (o.idle_seconds > 0) {
        const auto w0 = Clock::now();
        std::this_thread::sleep_for(std::chrono::duration<double>(o.idle_seconds));
        const auto c1 = cpuNs(server.pid());
        const double wall_ns = std::chrono::duration<double, std::nano>(Clock::now() - w0).count();
        if (c0 && c1) {
            std::printf(" idle_seconds=%.0f idle_cpu_ms=%.2f idle_cpu_pct=%.4f", o.idle_seconds,
                        static_cast<double>(*c1 - *c0) / 1e6,
                        100.0 * static_cast<double>(*c1 - *c0) / wall_ns);
        }
    }
    std::printf("\n");
    return server.running() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"vmpower-loadgen: plays QEMU on N channels (docs/benchmarks.md)"};
    app.require_subcommand(1);
    Options o;
    auto* lat = app.add_subcommand("latency", "closed-loop request->reply latency and req/s");
    lat->add_option("--server", o.server, "floor | vmpowerd | external")->capture_default_str();
    lat->add_option("--channels", o.channels)->capture_default_str();
    lat->add_option("--seconds", o.seconds, "measured")->capture_default_str();
    lat->add_option("--warmup-ms", o.warmup_ms)->capture_default_str();
    lat->add_option("--gen-cpu", o.gen_cpu, "pin the generator (-1: no)");
    lat->add_option("--server-cpu", o.server_cpu, "pin the server (-1: no)");
    lat->add_option("--socket-dir", o.socket_dir, "for --server external");
    auto* sc = app.add_subcommand("scale", "connect-all time, RSS, idle CPU of vmpowerd");
    sc->add_option("--domains", o.domains)->capture_default_str();
    sc->add_option("--per-domain", o.per_domain)->capture_default_str();
    sc->add_option("--idle-seconds", o.idle_seconds)->capture_default_str();
    sc->add_option("--server-cpu", o.server_cpu, "pin vmpowerd (-1: no)");
    for (auto* s : {lat, sc}) {
        s->add_option("--vmpowerd", o.vmpowerd, "the vmpowerd binary");
        s->add_option("--fixture", o.fixture, "a fixture sysfs tree to copy");
    }
    CLI11_PARSE(app, argc, argv);
    raiseFdLimit();
    try {
        return lat->parsed() ? latency(o) : scale(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vmpower-loadgen: %s\n", e.what());
        return 2;
    }
}

// `vmpower-guest powercap` against a fake host, with --root in a temporary
// directory: what the tree holds after --once, a migration (the host's
// count starting again), a daemon restart, a NACK, and the loop's back-off
// and SIGTERM. (The tmpfs over /sys/class/powercap runs in the VM test.)
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "cli.h"
#include "fake_host.h"
#include "powercap_text.h"
#include "powercap_tree.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using vmpower::testing::Bytes;
using vmpower::testing::EnergyNumbers;
using vmpower::testing::FakeHost;

struct Outcome {
    int status;
    std::string log;
};

Outcome run(std::vector<std::string> args) {
    std::vector<const char*> argv{"vmpower-guest"};
    for (const auto& a : args) argv.push_back(a.c_str());
    std::istringstream in;
    std::ostringstream out, err;
    int status =
        vmpower::guest::runCli(static_cast<int>(argv.size()), argv.data(), in, out, err, false);
    EXPECT_EQ(out.str(), "") << "the daemon logs on standard error only";
    return {status, err.str()};
}

bool logged(const Outcome& o, std::string_view line) {
    return o.log.find(line) != std::string::npos;
}

// Answers each request with the next of `replies` (an empty Bytes: none).
std::thread serve(FakeHost& h, std::vector<std::function<Bytes(const Bytes&)>> replies) {
    return std::thread([&h, replies] {
        for (const auto& reply : replies) {
            auto req = h.read(VMPOWER_PACKET_SIZE);
            ASSERT_TRUE(req);
            if (Bytes r = reply(*req); !r.empty()) h.write(r);
        }
    });
}

std::function<Bytes(const Bytes&)> energy(EnergyNumbers n) {
    return [n](const Bytes& req) { return vmpower::testing::energyReply(req, n); };
}

std::function<Bytes(const Bytes&)> nack() {
    return [](const Bytes& req) { return vmpower::testing::echo(req, VMPOWER_CMD_NACK); };
}

std::uint64_t counter(const fs::path& file) {
    return vmpower::guest::parseCounter(vmpower::guest::readSmallFile(file).value_or(""))
        .value_or(~0ull);
}

struct Rig {
    FakeHost host;
    vmpower::test::TempDir dir;
    fs::path root = dir / "powercap";
    std::vector<std::string> once() const {
        return {"powercap", "--once", "--root", root.string(), "--port-dir", host.portDir()};
    }
    std::uint64_t package() const { return counter(root / "intel-rapl:0/energy_uj"); }
    std::uint64_t core() const { return counter(root / "intel-rapl:0:0/energy_uj"); }
};

TEST(PowercapDaemon, OnceWritesTheVmsEnergy) {
    Rig r;
    auto t = serve(r.host, {energy({VMPOWER_ENERGY_AVAILABLE, 5000, 60'000, {3000, 1000}})});
    Outcome o = run(r.once());
    t.join();
    EXPECT_EQ(o.status, 0) << o.log;
    EXPECT_EQ(r.package(), 5000u);
    EXPECT_EQ(r.core(), 4000u) << "the vCPUs' part";
    EXPECT_TRUE(logged(o, "writing the VM's energy under " + r.root.string())) << o.log;
}

TEST(PowercapDaemon, AMigrationDoesNotTakeTheTreeBack) {
    Rig r;
    auto t = serve(r.host, {energy({VMPOWER_ENERGY_AVAILABLE, 5000, 60'000, {4000}}),
                            energy({VMPOWER_ENERGY_AVAILABLE, 5600, 70'000, {4500}}),
                            // Migrated: the new host began watching 1 s ago.
                            energy({VMPOWER_ENERGY_AVAILABLE, 300, 1000, {200}})});
    EXPECT_EQ(run(r.once()).status, 0);
    Outcome restarted = run(r.once());  // a new daemon continues from the tree
    EXPECT_EQ(restarted.status, 0);
    EXPECT_TRUE(logged(restarted, "continuing from 5000 µJ")) << restarted.log;
    EXPECT_EQ(r.package(), 5600u) << "the marker's host reading: only the delta counts";
    EXPECT_EQ(r.core(), 4500u);
    Outcome migrated = run(r.once());
    t.join();
    EXPECT_EQ(migrated.status, 0);
    EXPECT_TRUE(logged(migrated,
                       "the host's count started again (live migration or agent "
                       "restart): continuing from 5600 µJ"))
        << migrated.log;
    EXPECT_EQ(r.package(), 5900u);
    EXPECT_EQ(r.core(), 4700u);
}

TEST(PowercapDaemon, ANackAtTheFirstQueryLeavesNoTree) {
    Rig r;
    auto t = serve(r.host, {nack()});
    Outcome o = run(r.once());
    t.join();
    EXPECT_EQ(o.status, 2);
    EXPECT_TRUE(logged(o,
                       "the host does not allow this VM energy queries: its rule needs "
                       "energy: true"))
        << o.log;
    EXPECT_FALSE(fs::exists(r.root));
}

TEST(PowercapDaemon, AHostWithoutCountersGetsATreeThatStaysPut) {
    Rig r;
    auto t = serve(r.host, {energy({0, 0, 0, {}})});
    Outcome o = run(r.once());
    t.join();
    EXPECT_EQ(o.status, 0) << o.log;
    EXPECT_TRUE(logged(o, "the host measures no energy now")) << o.log;
    EXPECT_EQ(r.package(), 0u) << "laid out: readers need a tree";
}

TEST(PowercapDaemon, AMissingPortGivesWayToTheNext) {
    FakeHost host(3);  // no port 0
    vmpower::test::TempDir dir;
    auto t = serve(host, {energy({VMPOWER_ENERGY_AVAILABLE, 77, 1000, {70}})});
    Outcome o =
        run({"powercap", "--once", "--root", dir.path().string(), "--port-dir", host.portDir()});
    t.join();
    EXPECT_EQ(o.status, 0) << o.log;
    EXPECT_EQ(counter(dir / "intel-rapl:0/energy_uj"), 77u);
}

TEST(PowercapDaemon, ARealZoneIsRefusedBeforeAsking) {
    Rig r;
    fs::create_directories(r.root / "intel-rapl:0");
    Outcome o = run(r.once());  // the host is never asked: nothing serves it
    EXPECT_EQ(o.status, 2);
    EXPECT_TRUE(logged(o, "holds a RAPL zone of its own (intel-rapl:0)")) << o.log;
    EXPECT_FALSE(fs::exists(r.root / ".vmpower-powercap"));
}

TEST(PowercapDaemon, TheLoopBacksOffOnANackAndStopsOnSigterm) {
    Rig r;
    std::atomic<bool> served{false};
    std::thread host([&] {
        for (const auto& reply : {energy({VMPOWER_ENERGY_AVAILABLE, 1000, 1000, {900}}), nack(),
                                  energy({VMPOWER_ENERGY_AVAILABLE, 2000, 3000, {1800}})}) {
            auto req = r.host.read(VMPOWER_PACKET_SIZE);
            ASSERT_TRUE(req);
            r.host.write(reply(*req));
        }
        served = true;
    });
    Outcome o{};
    std::thread daemon([&] {
        o = run({"powercap", "--interval", "0.1", "--timeout-ms", "200", "--root", r.root.string(),
                 "--port-dir", r.host.portDir()});
    });
    host.join();
    // The daemon blocks SIGTERM in its own thread and takes it while waiting.
    for (int i = 0; i < 1000 && r.package() != 2000u; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    pthread_kill(daemon.native_handle(), SIGTERM);
    daemon.join();
    EXPECT_TRUE(served);
    EXPECT_EQ(o.status, 0) << o.log;
    EXPECT_TRUE(logged(o,
                       "the host refused the energy query (its rate limit): asking every "
                       "0.2 s"))
        << o.log;
    EXPECT_TRUE(logged(o, "the host answers again: asking every 0.1 s")) << o.log;
    EXPECT_TRUE(logged(o, "stopped by SIGTERM; the tree keeps 2000 µJ")) << o.log;
    EXPECT_EQ(r.package(), 2000u) << "the tree stays";
}

TEST(PowercapDaemon, TheHelpListsIt) {
    std::istringstream in;
    std::ostringstream out, err;
    const char* argv[] = {"vmpower-guest", "--help"};
    EXPECT_EQ(vmpower::guest::runCli(2, argv, in, out, err, false), 0);
    EXPECT_NE(out.str().find("powercap"), std::string::npos);
}

}  // namespace

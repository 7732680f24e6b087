// The guest's energy query end to end: an in-process Agent on libvirt's test
// driver, a powercap fixture tree and a fixture /proc for the VM's QEMU, the
// guest library on the channel's socket. The test advances the package
// counter and the vCPU threads' CPU time between two samples.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "agent_harness.h"
#include "proc_fixture.h"
#include "vmpower/guest.h"

namespace vmpower::test {
namespace {

using json = nlohmann::json;

constexpr const char* kUuid1 = "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e";
constexpr const char* kUuid2 = "7e2d0c1b-3f1f-4d66-8e1f-4b2a2c3d4e5f";
constexpr const char* kEnergyFile = "devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj";

class EnergyQuery : public AgentTestDriverFixture {
  protected:
    void SetUp() override { setUp("0.1"); }
    void setUp(const std::string& guest_period) {
        copyProcFixture(VMPOWER_PROC_FIXTURES "/qemu-tcg", dir_ / "proc");
        std::filesystem::create_directories(dir_ / "pids");
        writeFile(dir_ / "pids/vm1.pid", "4242\n");  // both VMs' "QEMU" is process 4242
        writeFile(dir_ / "pids/vm2.pid", "4242\n");
        extra_agent_yaml_ = "  proc_root: " + (dir_ / "proc").string() +
                            "\n  energy_interval: 0.1\n" +
                            "  energy_guest_period: " + guest_period + "\n";
    }
    void start() {
        startAgent(domainXml("vm1", kUuid1, channelXml(path("vm1.0"), 0)) +
                       domainXml("vm2", kUuid2, channelXml(path("vm2.0"), 0)),
                   "  - name: vm1\n    energy: true\n  - name: vm2\n", false, "rapl-one-package");
    }
    std::uint64_t samples() const { return agent_->energy()->samples(); }
    // After a first sample, one interval: vCPU 0 busy for 10 ticks, the
    // counter up 4 J; then two samples, so the guest's reading (a period,
    // 0.1 s here, old at most) has it.
    bool oneBusyInterval() {
        if (!runUntil(*agent_, [&] { return samples() >= 1; })) return false;
        addTaskTicks(dir_ / "proc", 4242, 4245, 10);
        fixture_->write(kEnergyFile, "1004000000\n");
        const auto before = samples();
        return runUntil(*agent_, [&] { return samples() > before + 1; });
    }
    // The `energy` answer's µJ add up: per package host + VMs, per VM its vCPUs.
    static void expectTheLedgerAddsUp(const json& energy) {
        std::uint64_t vms = 0;
        for (const json& vm : energy["vms"]) {
            std::uint64_t vcpus = 0;
            for (const json& uj : vm["vcpu_uj"]) vcpus += uj.get<std::uint64_t>();
            EXPECT_EQ(vcpus, vm["energy_uj"].get<std::uint64_t>()) << vm.dump();
            vms += vm["energy_uj"].get<std::uint64_t>();
        }
        const json& p = energy["packages"][0];
        EXPECT_EQ(p["host_uj"].get<std::uint64_t>() + p["vms_uj"].get<std::uint64_t>(),
                  p["energy_uj"].get<std::uint64_t>());
        EXPECT_EQ(p["vms_uj"].get<std::uint64_t>(), vms) << "no VM has stopped";
    }

    // vmpower_query_energy in a thread while the agent's loop runs here.
    vmpower_status query(FakeQemuSocket& q, vmpower_energy& out) {
        vmpower_channel_options o;
        vmpower_channel_options_init(&o);
        o.timeout_ms = 3000;
        vmpower_channel* ch = nullptr;
        EXPECT_EQ(vmpower_channel_open_fd(::dup(q.fd()), &o, &ch), VMPOWER_OK);
        std::atomic<bool> done = false;
        vmpower_status st = VMPOWER_ERR_IO;
        std::thread guest([&] {
            st = vmpower_query_energy(ch, &out);
            done = true;
        });
        EXPECT_TRUE(runUntil(*agent_, [&] { return done.load(); }));
        guest.join();
        vmpower_channel_close(ch);
        return st;
    }
};

TEST_F(EnergyQuery, TheGuestReadsItsOwnEnergyThroughItsChannel) {
    FakeQemuSocket q1(path("vm1.0")), q2(path("vm2.0"));
    start();
    ASSERT_TRUE(accepted(q1));
    ASSERT_TRUE(accepted(q2));
    ASSERT_TRUE(agent_->energy()->available()) << agent_->energy()->unavailableReason();
    ASSERT_TRUE(oneBusyInterval());

    vmpower_energy e{};
    ASSERT_EQ(query(q1, e), VMPOWER_OK);
    EXPECT_EQ(e.flags & VMPOWER_ENERGY_AVAILABLE, VMPOWER_ENERGY_AVAILABLE);
    EXPECT_EQ(e.num_vcpu, 2u);
    EXPECT_GT(e.energy_uj, 0u);
    EXPECT_LE(e.energy_uj, 4'000'000u) << "never more than the package counted";
    EXPECT_GT(e.vcpu_energy_uj[0], e.vcpu_energy_uj[1]) << "vCPU 0 was the busy one";
    EXPECT_NEAR(static_cast<double>(e.vcpu_energy_uj[0] + e.vcpu_energy_uj[1]),
                static_cast<double>(e.energy_uj), 2.0);
    EXPECT_GT(e.interval_ms, 0u);

    // vm2's rule does not say energy: true.
    vmpower_energy refused{};
    EXPECT_EQ(query(q2, refused), VMPOWER_ERR_NACK);
    EXPECT_EQ(refused.energy_uj, 0u);

    // The operator sees the same.
    json answer = agent_->control({{"cmd", "show-vm"}, {"name", "vm1"}});
    EXPECT_GE(answer["energy_uj"].get<std::uint64_t>(), e.energy_uj);
    const json energy = agent_->control({{"cmd", "energy"}});
    EXPECT_EQ(energy["idle"], "host");
    expectTheLedgerAddsUp(energy);
    EXPECT_GT(energy["packages"][0]["host_uj"].get<std::uint64_t>(), 0u) << "idle is the host's";
}

// agent.energy_idle: vcpus: the same, with what no VM ran for shared among the
// VMs by their vCPU threads on the package (both VMs' "QEMU" is process 4242,
// its vCPU threads on CPUs 2 and 3 of package-0).
class EnergyQueryIdleVcpus : public EnergyQuery {
  protected:
    void SetUp() override {
        setUp("0.1");
        extra_agent_yaml_ += "  energy_idle: vcpus\n";
    }
};

TEST_F(EnergyQueryIdleVcpus, TheEnergyCommandGivesTheIdlePartToTheVms) {
    FakeQemuSocket q1(path("vm1.0")), q2(path("vm2.0"));
    start();
    ASSERT_TRUE(accepted(q1));
    ASSERT_TRUE(agent_->energy()->available()) << agent_->energy()->unavailableReason();
    ASSERT_TRUE(oneBusyInterval());

    const json energy = agent_->control({{"cmd", "energy"}});
    EXPECT_EQ(energy["idle"], "vcpus");
    expectTheLedgerAddsUp(energy);
    const json& package = energy["packages"][0];
    EXPECT_EQ(package["energy_uj"].get<std::uint64_t>(), 4'000'000u);
    EXPECT_EQ(package["host_uj"].get<std::uint64_t>(), 0u) << "all of it on the VMs";
    EXPECT_GT(package["idle_uj"].get<std::uint64_t>(), 0u);
    for (const json& vm : energy["vms"]) EXPECT_GT(vm["idle_uj"].get<std::uint64_t>(), 0u);

    json answer = agent_->control({{"cmd", "show-vm"}, {"name", "vm1"}});
    EXPECT_EQ(answer["energy"]["idle"], "vcpus");
    vmpower_energy e{};
    ASSERT_EQ(query(q1, e), VMPOWER_OK);
    EXPECT_EQ(e.energy_uj, answer["energy_uj"].get<std::uint64_t>())
        << "the guest's reading includes its idle share";
}

// Issue 25: the guest's reading changes at most once per
// agent.energy_guest_period, while the operator sees every sample.
class EnergyQueryHeld : public EnergyQuery {
  protected:
    void SetUp() override { setUp("3600"); }
};

TEST_F(EnergyQueryHeld, TheGuestsReadingIsHeldForAPeriod) {
    FakeQemuSocket q1(path("vm1.0")), q2(path("vm2.0"));
    start();
    ASSERT_TRUE(accepted(q1));
    ASSERT_TRUE(runUntil(*agent_, [&] { return samples() >= 2; }));
    vmpower_energy first{};
    ASSERT_EQ(query(q1, first), VMPOWER_OK);
    ASSERT_EQ(first.flags & VMPOWER_ENERGY_AVAILABLE, VMPOWER_ENERGY_AVAILABLE);
    for (int round = 1; round <= 3; ++round) {
        addTaskTicks(dir_ / "proc", 4242, 4245, 10);
        fixture_->write(kEnergyFile, std::to_string(1000000000 + round * 4000000) + "\n");
        const auto before = samples();
        ASSERT_TRUE(runUntil(*agent_, [&] { return samples() > before + 1; }));
        vmpower_energy e{};
        ASSERT_EQ(query(q1, e), VMPOWER_OK);
        EXPECT_EQ(e.energy_uj, first.energy_uj) << "round " << round;
        EXPECT_EQ(e.power_mw, first.power_mw);
        EXPECT_EQ(e.vcpu_energy_uj[0], first.vcpu_energy_uj[0]);
    }
    json answer = agent_->control({{"cmd", "show-vm"}, {"name", "vm1"}});
    EXPECT_GT(answer["energy_uj"].get<std::uint64_t>(), first.energy_uj)
        << "the operator's view follows every sample";
}

TEST_F(EnergyQuery, AHostWithoutPowercapAnswersUnavailable) {
    FakeQemuSocket q1(path("vm1.0"));
    startAgent(domainXml("vm1", kUuid1, channelXml(path("vm1.0"), 0)),
               "  - name: vm1\n    energy: true\n", false, "acpi-cpufreq");
    ASSERT_TRUE(accepted(q1));
    EXPECT_FALSE(agent_->energy()->available());
    vmpower_energy e{};
    EXPECT_EQ(query(q1, e), VMPOWER_ERR_UNAVAILABLE);
    json answer = agent_->control({{"cmd", "energy"}});
    EXPECT_EQ(answer["available"], false);
    EXPECT_TRUE(agent_->control({{"cmd", "show-vm"}, {"name", "vm1"}})["energy_uj"].is_null());
}

}  // namespace
}  // namespace vmpower::test

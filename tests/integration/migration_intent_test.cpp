// The VM's power intent across a live migration, on libvirt's test driver:
// two in-process agents ("hosts" A and B, each its own test:/// driver
// instance and its own fixture sysfs tree with a different frequency table)
// in the one event loop. The guest's requests reach A over its channel; A
// writes the intent into the domain's live metadata with the real
// virDomainSetMetadata; the domain XML A's libvirt then holds (metadata
// included, as a migration carries it) defines the domain on B, which gets
// libvirt's STARTED_MIGRATED event (injected: the test driver cannot
// migrate). The expected levels on B are worked out from B's tree by hand.
// The real migration between two libvirtds: tests/libvirt/ (harness).
#include <libvirt/libvirt.h>

#include "request_path_world.h"

namespace vmpower::test {
namespace {

const std::string kUuid = "6a3d1f2e-0b4c-4d5e-8f90-123456789abc";
const std::string kNeighbourUuid = "6a3d1f2e-0b4c-4d5e-8f90-cba987654321";

struct VmSpec {
    std::string name, uuid;
    std::vector<std::string> pins;  // per vCPU
    std::string emulator;
    std::string metadata;  // inside <metadata>
};

// One host: a fixture tree, the domains on its own test driver, its agent.
class Host {
  public:
    Host(const std::string& driver, const std::vector<VmSpec>& vms, const std::string& rules) {
        fixture_ = std::make_unique<SysfsFixture>(driver);
        baseline = fixture_->snapshot();
        std::string domains;
        for (const VmSpec& vm : vms) {
            std::vector<std::filesystem::path> paths;
            for (std::size_t v = 0; v < vm.pins.size(); ++v) {
                const std::string key = vm.name + "." + std::to_string(v);
                qemu[key] = std::make_unique<QemuEnd>(dir_.path() / key);
                paths.push_back(dir_.path() / key);
            }
            domains += testDomainXml(vm.name, vm.uuid, vm.pins, vm.emulator, paths, vm.metadata);
        }
        writeFile(dir_.path() / "node.xml", fourCpuNodeXml(domains));
        const auto config = dir_.path() / "vmpower.yaml";
        writeFile(config, agentYaml(dir_.path(), fixture_->root(), false, rules));
        Config cfg = loadConfig(config);
        power = makeArbiterFor(cfg.agent);
        AgentOptions opts;
        opts.uri = "test://" + (dir_.path() / "node.xml").string();
        opts.handle_signals = false;
        opts.control_socket = false;
        opts.notify_systemd = false;
        agent = std::make_unique<Agent>(opts, cfg, *power);
        agent->start();
        EXPECT_TRUE(runUntil(*agent, [&] { return agent->ready(); }));
        for (auto& [key, end] : qemu) {
            QemuEnd& e = *end;
            EXPECT_TRUE(runUntil(*agent, [&] { return e.accept(); })) << key;
        }
    }

    // One CPU_POWER record from the guest; the reply must be `command`.
    void request(const std::string& vm, unsigned vcpu, std::uint32_t unit,
                 std::uint32_t command = VMPOWER_CMD_ACK) {
        QemuEnd& end = *qemu.at(vm + "." + std::to_string(vcpu));
        const Bytes req = cpuPower(vcpu, unit);
        ASSERT_TRUE(end.sendAll(*agent, req));
        bool open = true;
        ASSERT_TRUE(runUntil(*agent, [&] {
            open = end.pump() && open;
            return end.inbox().size() >= req.size() || !open;
        }));
        Bytes got(end.inbox().begin(),
                  end.inbox().begin() + static_cast<std::ptrdiff_t>(req.size()));
        end.inbox().clear();
        EXPECT_EQ(hex(got), hex(echo(req, command))) << vm << " vCPU " << vcpu << " unit " << unit;
    }

    DomainHandle domain(const std::string& name) { return lookup(*agent, name); }
    // The element libvirt holds in the domain's live metadata; "" if none.
    std::string metadata(const std::string& name) {
        DomainHandle dom = domain(name);
        LibvirtString text(virDomainGetMetadata(dom.get(), VIR_DOMAIN_METADATA_ELEMENT,
                                                "urn:vmpower:intent:1", VIR_DOMAIN_AFFECT_LIVE));
        return text ? std::string(text.get()) : std::string();
    }
    // <metadata>...</metadata> of the live XML, as a migration carries it.
    std::string metadataBlock(const std::string& name) {
        DomainHandle dom = domain(name);
        LibvirtString xml(virDomainGetXMLDesc(dom.get(), 0));
        std::string s = xml ? xml.get() : "";
        auto from = s.find("<metadata>"), to = s.find("</metadata>");
        if (from == std::string::npos || to == std::string::npos) return {};
        return s.substr(from + 10, to - from - 10);
    }
    void startedByMigration(const std::string& uuid, bool migrated = true) {
        agent->hypervisor().handleLifecycle(
            uuid, VIR_DOMAIN_EVENT_STARTED,
            migrated ? VIR_DOMAIN_EVENT_STARTED_MIGRATED : VIR_DOMAIN_EVENT_STARTED_BOOTED);
        // The domain is read off the loop: its answer comes a few turns later.
        EXPECT_TRUE(runUntil(*agent, [&] { return !agent->registry().asking(); }));
    }
    nlohmann::json showVm(const std::string& name) {
        return agent->control({{"cmd", "show-vm"}, {"name", name}});
    }
    std::vector<std::string> changed() const { return diffTrees(baseline, fixture_->snapshot()); }
    std::string read(const std::string& file) const { return fixture_->read(file); }

  private:
    TempDir dir_;  // first: gone after everything in it
    std::unique_ptr<SysfsFixture> fixture_;

  public:
    TreeSnapshot baseline;
    std::unique_ptr<Arbiter> power;  // before the agent: restores after it stopped
    std::unique_ptr<Agent> agent;
    std::map<std::string, std::unique_ptr<QemuEnd>> qemu;
};

const std::string kRules =
    "  - name: \"*\"\n"
    "    rate: 0\n";  // the storm below is far above 100/s

TEST(MigrationIntent, TheSourcesIntentIsAppliedOnTheDestinationWithinItsOwnRange) {
    // A: acpi-cpufreq, 800000..3400000 every 200000 (14 steps).
    Host a("acpi-cpufreq", {{"mig", kUuid, {"1", "0"}, "0-1", ""}}, kRules);
    a.request("mig", 0, VMPOWER_SCALE_MAX);
    for (int i = 0; i < 3; ++i) a.request("mig", 0, VMPOWER_SCALE_DOWN);  // 2800000
    a.request("mig", 1, VMPOWER_SCALE_MIN);
    const std::string want =
        "<intent>\n"
        "  <vcpu id=\"0\" level=\"step\" from-top=\"3\" of=\"14\" khz=\"2800000\"/>\n"
        "  <vcpu id=\"1\" level=\"min\" khz=\"800000\"/>\n"
        "</intent>";
    ASSERT_TRUE(runUntil(*a.agent, [&] { return a.metadata("mig").find(want) == 0; }))
        << a.metadata("mig");
    EXPECT_EQ(a.showVm("mig")["vcpus"][0]["intent"]["origin"], "guest");

    // B: intel_pstate, 400000..4700000 every 100000 (44 steps), one policy
    // per CPU. The same domain, pinned by B's XML (vCPU 0 on 2, 1 on 3).
    const std::string carried = a.metadataBlock("mig");
    ASSERT_NE(carried.find("urn:vmpower:intent:1"), std::string::npos) << carried;
    Host b("intel_pstate", {{"mig", kUuid, {"2", "3"}, "2-3", carried}}, kRules);
    EXPECT_EQ(b.changed(), std::vector<std::string>{}) << "found running: nothing restored";
    b.startedByMigration(kUuid);
    // vCPU 0: 3 of 13 intervals below the top -> 3*43/13 = 9.9 -> 10 below
    // 4700000 = 3700000, min and max pinned there (min/max backend).
    // vCPU 1: min = 400000 (scaling_max_freq; min was 400000 already).
    const std::string p2 = kCpu + "cpufreq/policy2/", p3 = kCpu + "cpufreq/policy3/";
    EXPECT_EQ(b.read(p2 + "scaling_max_freq"), "3700000\n");
    EXPECT_EQ(b.read(p2 + "scaling_min_freq"), "3700000\n");
    EXPECT_EQ(b.read(p3 + "scaling_max_freq"), "400000\n");
    nlohmann::json shown = b.showVm("mig");
    const std::string from = shown["vcpus"][0]["intent"]["from"];
    EXPECT_EQ(from.rfind("restored from migration (at ", 0), 0u) << shown.dump();
    EXPECT_EQ(shown["vcpus"][0]["intent"]["level_text"], "3 steps below max (of 14)");
    EXPECT_EQ(shown["vcpus"][1]["intent"]["applied"], true);
    // B writes nothing back until the guest changes something; then the
    // vCPU's intent is B's own.
    EXPECT_EQ(b.agent->intents().writer().stats().attempts, 0u);
    b.request("mig", 1, VMPOWER_SCALE_UP);  // 500000 here
    ASSERT_TRUE(runUntil(*b.agent, [&] {
        return b.metadata("mig").find(
                   "<vcpu id=\"1\" level=\"step\" from-top=\"42\" of=\"44\" "
                   "khz=\"500000\"/>") != std::string::npos;
    })) << b.metadata("mig");
    EXPECT_NE(b.metadata("mig").find("<vcpu id=\"0\" level=\"step\" from-top=\"3\" of=\"14\""),
              std::string::npos)
        << "vCPU 0 keeps the intent it arrived with";
    EXPECT_EQ(std::string(b.showVm("mig")["vcpus"][1]["intent"]["from"]).rfind("held since ", 0),
              0u);
}

TEST(MigrationIntent, AStormOfRequestsBecomesAFewWritesOfTheLatestIntent) {
    Host a("acpi-cpufreq", {{"mig", kUuid, {"1", "0"}, "0-1", ""}}, kRules);
    // libvirt's own count of the writes: its METADATA_CHANGE events.
    struct Count {
        int events = 0;
    } count;
    auto onChange = [](virConnectPtr, virDomainPtr, int, const char*, void* opaque) {
        static_cast<Count*>(opaque)->events++;
    };
    int id = virConnectDomainEventRegisterAny(
        a.agent->hypervisor().connection(), nullptr, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
        VIR_DOMAIN_EVENT_CALLBACK(+onChange), &count, nullptr);
    ASSERT_GE(id, 0);
    QemuEnd& end = *a.qemu.at("mig.0");
    const auto begin = std::chrono::steady_clock::now();
    Bytes storm;
    for (int i = 0; i < 2000; ++i) {
        storm = concat({storm, cpuPower(0, i % 2 ? VMPOWER_SCALE_DOWN : VMPOWER_SCALE_UP)});
    }
    storm = concat({storm, cpuPower(0, VMPOWER_SCALE_MAX)});  // the last word
    ASSERT_TRUE(end.sendAll(*a.agent, storm));
    // (Replies the guest does not read in time are dropped: count ACKs.)
    auto acked = [&] {
        return a.agent->registry().find(kUuid)->channels.at(0)->stats().requests.acked;
    };
    ASSERT_TRUE(runUntil(
        *a.agent,
        [&] {
            end.pump();
            end.inbox().clear();
            return acked() >= 2001;
        },
        30s));
    const std::string want =
        "<intent>\n  <vcpu id=\"0\" level=\"max\" khz=\"3400000\"/>\n</intent>";
    ASSERT_TRUE(runUntil(*a.agent, [&] { return a.metadata("mig").find(want) == 0; }))
        << a.metadata("mig");
    runUntil(
        *a.agent, [] { return false; }, 2 * kIntentWriteInterval);  // late events arrive
    const auto elapsed = std::chrono::steady_clock::now() - begin;
    const auto& stats = a.agent->intents().writer().stats();
    EXPECT_EQ(acked(), 2001u);
    EXPECT_EQ(static_cast<std::uint64_t>(count.events), stats.written);
    EXPECT_GE(stats.written, 1u);
    EXPECT_LE(stats.attempts, static_cast<std::uint64_t>(elapsed / kIntentWriteInterval) + 1)
        << "2001 requests in "
        << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
    virConnectDomainEventDeregisterAny(a.agent->hypervisor().connection(), id);
}

TEST(MigrationIntent, ANormalStartIgnoresAStaleIntentAndRemovesIt) {
    const std::string stale =
        "<vmpower-intent:intent xmlns:vmpower-intent='urn:vmpower:intent:1'>"
        "<vmpower-intent:vcpu id='0' level='min'/></vmpower-intent:intent>";
    Host b("intel_pstate", {{"mig", kUuid, {"2", "3"}, "2-3", stale}}, kRules);
    ASSERT_NE(b.metadata("mig"), "");
    b.startedByMigration(kUuid, false);
    ASSERT_TRUE(runUntil(*b.agent, [&] { return b.metadata("mig").empty(); })) << b.metadata("mig");
    EXPECT_EQ(b.changed(), std::vector<std::string>{});
    EXPECT_EQ(b.showVm("mig")["vcpus"][0]["intent"], nullptr);
}

TEST(MigrationIntent, TheDestinationsStakeholderRuleRefusesSlowingASharedCpu) {
    // On B, vCPU 1 lands on pCPU 3, where the neighbour runs and holds
    // nothing: its min would slow the neighbour, so it is refused (and
    // shown); vCPU 0's max on its own CPU is applied.
    const std::string carried =
        "<vmpower-intent:intent xmlns:vmpower-intent='urn:vmpower:intent:1'>"
        "<vmpower-intent:vcpu id='0' level='max'/>"
        "<vmpower-intent:vcpu id='1' level='min'/></vmpower-intent:intent>";
    Host b(
        "intel_pstate",
        {{"mig", kUuid, {"2", "3"}, "2", carried}, {"neighbour", kNeighbourUuid, {"3"}, "3", ""}},
        kRules);
    b.startedByMigration(kUuid);
    const std::string p2 = kCpu + "cpufreq/policy2/";
    EXPECT_EQ(b.changed(), (std::vector<std::string>{p2 + "scaling_min_freq"}));
    EXPECT_EQ(b.read(p2 + "scaling_min_freq"), "4700000\n");
    nlohmann::json shown = b.showVm("mig");
    EXPECT_EQ(shown["vcpus"][1]["intent"]["applied"], false) << shown.dump();
    const std::string refusal = shown["vcpus"][1]["intent"]["refusal"];
    EXPECT_NE(refusal.find("neighbour"), std::string::npos) << refusal;
    EXPECT_NE(std::string(shown["last_power_refusal"]).find("neighbour"), std::string::npos);
}

}  // namespace
}  // namespace vmpower::test

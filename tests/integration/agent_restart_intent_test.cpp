// A vmpowerd restart keeps every hold, on libvirt's test driver: a guest
// holds max on vCPU 0 and a host policy on vCPU 1; the agent stops as
// SIGTERM stops it (the hardware restored as found: asserted); a new agent
// on the same state directory finds the domain running in the same run and
// has both back at its first reconcile. A domain restarted meanwhile (a new
// domain id: each agent's test driver numbers the domains of its node file
// in order, and a domain defined before it in the second file moves its id
// on) gets nothing. release-all gives everything back and forgets it, so a
// third start restores nothing. The gap the hardware spends below the held
// level (in process: from the old agent's end to the new one's first
// reconcile) is printed.
#include <libvirt/libvirt.h>

#include "request_path_world.h"

namespace vmpower::test {
namespace {

using namespace std::chrono_literals;

const std::string kKeepUuid = "7a3d1f2e-0b4c-4d5e-8f90-123456789abc";
const std::string kAgainUuid = "7a3d1f2e-0b4c-4d5e-8f90-cba987654321";
const std::string kFillerUuid = "7a3d1f2e-0b4c-4d5e-8f90-000000000001";

const std::string kRules =
    "  - name: \"*\"\n"
    "    rate: 0\n";

class AgentRestart : public ::testing::Test {
  protected:
    AgentRestart() {
        fixture_ = std::make_unique<SysfsFixture>("acpi-cpufreq");
        baseline_ = fixture_->snapshot();
        for (const char* key : {"keep.0", "keep.1", "again.0"})
            qemu_[key] = std::make_unique<QemuEnd>(dir_.path() / key);
        config_ = dir_.path() / "vmpower.yaml";
        writeFile(config_, agentYaml(dir_.path(), fixture_->root(), false, kRules));
    }
    ~AgentRestart() override { stop(); }

    // "keep": vCPU 0 on policy0, vCPU 1 on policy1; "again": on policy2.
    // `restarted`: "again" was restarted meanwhile (a new domain id).
    std::string node(bool restarted, const std::string& keep_metadata = "") {
        std::string domains =
            testDomainXml("keep", kKeepUuid, {"0", "1"}, "0-1",
                          {dir_.path() / "keep.0", dir_.path() / "keep.1"}, keep_metadata);
        if (restarted) domains += testDomainXml("filler", kFillerUuid, {"3"}, "3", {});
        domains += testDomainXml("again", kAgainUuid, {"2"}, "2", {dir_.path() / "again.0"});
        return fourCpuNodeXml(domains);
    }
    void startAgent(const std::string& node_xml) {
        const auto file = dir_.path() / ("node" + std::to_string(++starts_) + ".xml");
        writeFile(file, node_xml);
        Config cfg = loadConfig(config_);
        power_ = makeArbiterFor(cfg.agent);
        AgentOptions opts;
        opts.uri = "test://" + file.string();
        opts.handle_signals = false;
        opts.control_socket = false;
        opts.notify_systemd = false;
        agent_ = std::make_unique<Agent>(opts, cfg, *power_);
        agent_->start();
        ASSERT_TRUE(runUntil(*agent_, [&] { return agent_->ready(); }));
    }
    void connectChannels() {
        for (auto& [key, end] : qemu_) {
            QemuEnd& e = *end;
            ASSERT_TRUE(runUntil(*agent_, [&] { return e.accept(); })) << key;
        }
    }
    // As SIGTERM ends it: the agent, then the arbiter restoring the tree.
    void stop() {
        agent_.reset();
        power_.reset();
        for (auto& [key, end] : qemu_) end->hangUp();
    }
    void expectReply(const std::string& key, const Bytes& req, std::uint32_t command) {
        QemuEnd& end = *qemu_.at(key);
        ASSERT_TRUE(end.sendAll(*agent_, req));
        ASSERT_TRUE(runUntil(*agent_, [&] {
            end.pump();
            return end.inbox().size() >= req.size();
        }));
        Bytes got(end.inbox().begin(),
                  end.inbox().begin() + static_cast<std::ptrdiff_t>(req.size()));
        end.inbox().clear();
        EXPECT_EQ(hex(got), hex(echo(req, command))) << key;
    }
    std::string metadataBlock(const std::string& name) {
        DomainHandle dom = lookup(*agent_, name);
        LibvirtString xml(virDomainGetXMLDesc(dom.get(), 0));
        std::string s = xml ? xml.get() : "";
        auto from = s.find("<metadata>"), to = s.find("</metadata>");
        if (from == std::string::npos || to == std::string::npos) return {};
        return s.substr(from + 10, to - from - 10);
    }
    std::string stateFile() const {
        std::ifstream in(dir_.path() / "state" / "intents.json");
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    std::string read(const std::string& file) const { return fixture_->read(file); }
    std::vector<std::string> changed() const { return diffTrees(baseline_, fixture_->snapshot()); }

    TempDir dir_;  // first: gone after everything in it
    std::unique_ptr<SysfsFixture> fixture_;
    TreeSnapshot baseline_;
    std::filesystem::path config_;
    std::map<std::string, std::unique_ptr<QemuEnd>> qemu_;
    int starts_ = 0;
    std::unique_ptr<Arbiter> power_;  // before the agent: restores after it stopped
    std::unique_ptr<Agent> agent_;
};

TEST_F(AgentRestart, EveryHoldIsBackAtTheFirstReconcileOfTheSameRunOnly) {
    startAgent(node(false));
    connectChannels();
    expectReply("keep.0", cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    Policy464 workload;  // WORKLOAD medium on vCPU 1: the middle step
    workload.workload = 1;
    workload.vcpus = {1};
    expectReply("keep.1", policyRecord(workload), VMPOWER_CMD_ACK);
    expectReply("again.0", cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    const std::string held0 = read(kPolicy0 + "scaling_setspeed");
    const std::string held1 = read(kPolicy1 + "scaling_setspeed");
    const std::string held2 = read(kPolicy2 + "scaling_setspeed");
    EXPECT_EQ(held0, line(3400000));
    EXPECT_EQ(held1, line(2000000));
    EXPECT_EQ(held2, line(800000));
    // Both carriers hold it: the state file and the live metadata.
    ASSERT_TRUE(runUntil(*agent_, [&] {
        const std::string s = stateFile();
        return s.find(kKeepUuid) != std::string::npos && s.find(kAgainUuid) != std::string::npos &&
               s.find("\"workload\": \"medium\"") != std::string::npos;
    })) << stateFile();
    ASSERT_TRUE(runUntil(
        *agent_, [&] { return metadataBlock("keep").find("level=\"max\"") != std::string::npos; }));
    const std::string keep_metadata = metadataBlock("keep");

    stop();
    EXPECT_EQ(changed(), std::vector<std::string>{}) << "a stop gives the hardware back as found";
    const auto stopped = std::chrono::steady_clock::now();

    // libvirt kept "keep" running (its live metadata with it); "again" was
    // restarted meanwhile.
    startAgent(node(true, keep_metadata));
    const auto back = std::chrono::steady_clock::now();
    EXPECT_EQ(read(kPolicy0 + "scaling_setspeed"), held0);
    EXPECT_EQ(read(kPolicy1 + "scaling_setspeed"), held1);
    EXPECT_NE(read(kPolicy2 + "scaling_setspeed"), held2) << "a new run gets nothing";
    std::printf("below the held level across the restart (in process): %.1f ms\n",
                std::chrono::duration<double, std::milli>(back - stopped).count());
    const nlohmann::json vm = agent_->control({{"cmd", "show-vm"}, {"name", "keep"}});
    ASSERT_EQ(vm["ok"], true) << vm.dump();
    EXPECT_EQ(vm["vcpus"][0]["intent"]["from"].get<std::string>().rfind(
                  "restored after an agent restart (at ", 0),
              0u)
        << vm.dump();
    EXPECT_EQ(agent_->hostPolicy(kKeepUuid)->origin, PolicyOrigin::Guest);
    const nlohmann::json again = agent_->control({{"cmd", "show-vm"}, {"name", "again"}});
    EXPECT_TRUE(again["vcpus"][0]["intent"].is_null()) << again.dump();
    ASSERT_TRUE(runUntil(*agent_, [&] {
        return stateFile().find(kAgainUuid) == std::string::npos;
    })) << "the restarted domain's entry goes";

    // release-all: given back now, and forgotten.
    const nlohmann::json released = agent_->control({{"cmd", "release-all"}});
    ASSERT_EQ(released["ok"], true) << released.dump();
    EXPECT_EQ(released["released"], 1);
    EXPECT_FALSE(agent_->hostPolicy(kKeepUuid).has_value());
    EXPECT_EQ(changed(), std::vector<std::string>{});
    ASSERT_TRUE(runUntil(*agent_, [&] { return stateFile().find(kKeepUuid) == std::string::npos; }))
        << stateFile();
    ASSERT_TRUE(runUntil(*agent_, [&] {
        return metadataBlock("keep").find("vcpu") == std::string::npos;
    })) << metadataBlock("keep");
    const std::string cleared = metadataBlock("keep");
    stop();

    startAgent(node(true, cleared));
    EXPECT_EQ(changed(), std::vector<std::string>{}) << "a third start restores nothing";
    EXPECT_FALSE(agent_->hostPolicy(kKeepUuid).has_value());
}

}  // namespace
}  // namespace vmpower::test

// The control commands behind vmpowerctl on an in-process agent (test:///
// driver, the test plays QEMU), then the real vmpowerctl binary against the
// agent's control socket while the agent's loop runs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "agent_harness.h"
#include "control_protocol.h"
#include "fake_qemu.h"
#include "power_setup.h"
#include "sysfs_fixture.h"
#include "vmpower/protocol.h"

extern char** environ;

namespace vmpower::test {
namespace {

using json = nlohmann::json;
namespace key = protocol::key;
namespace cmd = protocol::cmd;

constexpr const char* kUuid1 = "11111111-1111-1111-1111-111111111111";
constexpr const char* kUuid2 = "22222222-2222-2222-2222-222222222222";

// vm1 is matched by its own rule, vm2 by the catch-all, "outsider" by none.
const std::string kRules =
    "  - label: lab\n"
    "    name: vm1\n"
    "    pcpus: 0-1\n"
    "    commands: [up, down]\n"
    "    queries: true\n"
    "  - label: default\n"
    "    name: \"vm*\"\n";

class VmpowerctlOnTestDriver : public AgentTestDriverFixture {
  protected:
    void start(const std::string& domains) { startAgent(domains, kRules); }
    void startWithVm1(FakeQemuSocket& q0) {
        start(domainXml("vm1", kUuid1, channelXml(q0.path(), 0)) + domainXml("vm2", kUuid2, ""));
        ASSERT_TRUE(accepted(q0));
    }
    json control(const json& request) { return agent_->control(request); }
    static void expectError(const json& answer, const std::string& part) {
        EXPECT_EQ(answer["ok"], false) << answer.dump();
        EXPECT_NE(answer.value("error", "").find(part), std::string::npos) << answer.dump();
    }
};

TEST_F(VmpowerctlOnTestDriver, DisabledChannelIsClosedAndStaysClosedUntilEnabled) {
    FakeQemuSocket q0(path("vm1.0"));
    startWithVm1(q0);

    json off = control({{key::kCmd, cmd::kSetChannelStatus},
                        {key::kName, "vm1"},
                        {key::kIndex, 0},
                        {key::kStatus, "disabled"}});
    ASSERT_EQ(off["ok"], true) << off.dump();
    EXPECT_EQ(off["state"], "disabled");
    EXPECT_TRUE(runUntil(*agent_, [&] { return q0.peerClosed(); }));
    q0.dropConnection();

    // Neither time (retries) nor a libvirt event (a re-read of the XML)
    // brings it back.
    agent_->registry().onEvent(kUuid1, DeviceAdded{"channel0"});
    runUntil(
        *agent_, [] { return false; }, std::chrono::milliseconds(300));
    EXPECT_FALSE(q0.poll());
    EXPECT_EQ(channel(kUuid1, 0)->state(), Channel::State::Disabled);
    EXPECT_EQ(control({{key::kCmd, cmd::kListChannels}})["channels"][0]["state"], "disabled");

    json on = control({{key::kCmd, cmd::kSetChannelStatus},
                       {key::kName, "vm1"},
                       {key::kIndex, 0},
                       {key::kStatus, "enabled"}});
    ASSERT_EQ(on["ok"], true) << on.dump();
    EXPECT_TRUE(accepted(q0));
    EXPECT_EQ(channel(kUuid1, 0)->state(), Channel::State::Connected);
    EXPECT_EQ(channel(kUuid1, 0)->stats().connects, 2u);
}

TEST_F(VmpowerctlOnTestDriver, ShowPolicyNamesTheMatchingRuleAndWhatItAllows) {
    FakeQemuSocket q0(path("vm1.0"));
    start(domainXml("vm1", kUuid1, channelXml(q0.path(), 0)) + domainXml("vm2", kUuid2, "") +
          domainXml("outsider", "33333333-3333-3333-3333-333333333333", ""));

    json vm1 = control({{key::kCmd, cmd::kShowRule}, {key::kName, "vm1"}});
    ASSERT_EQ(vm1["ok"], true) << vm1.dump();
    EXPECT_EQ(vm1["running"], true);
    EXPECT_EQ(vm1["rule_index"], 0);
    EXPECT_EQ(vm1["rule"]["label"], "lab");
    EXPECT_EQ(vm1["rule"]["pcpus"], "0-1");
    EXPECT_EQ(vm1["rule"]["effective_pcpus"], "0-1");
    EXPECT_EQ(vm1["rule"]["commands"], json({"up", "down"}));

    json vm2 = control({{key::kCmd, cmd::kShowRule}, {key::kName, kUuid2}});  // by UUID too
    EXPECT_EQ(vm2["rule"]["label"], "default");
    EXPECT_TRUE(vm2["rule"]["pcpus"].is_null());  // its vCPUs' pinning

    json outsider = control({{key::kCmd, cmd::kShowRule}, {key::kName, "outsider"}});
    EXPECT_EQ(outsider["ok"], true);
    EXPECT_EQ(outsider["matched"], false);

    // A stopped but defined domain: libvirt knows it, the policy answers.
    auto dom = lookup(*agent_, "vm2");
    ASSERT_EQ(virDomainDestroy(dom.get()), 0);
    ASSERT_TRUE(runUntil(*agent_, [&] { return agent_->registry().find(kUuid2) == nullptr; }));
    json stopped = control({{key::kCmd, cmd::kShowRule}, {key::kName, "vm2"}});
    EXPECT_EQ(stopped["running"], false);
    EXPECT_EQ(stopped["uuid"], kUuid2);
    EXPECT_EQ(stopped["rule"]["label"], "default");
}

TEST_F(VmpowerctlOnTestDriver, SetQueryOverridesThePolicyUntilReload) {
    FakeQemuSocket q0(path("vm1.0"));
    startWithVm1(q0);
    auto query = [&] {
        vmpower_packet pkt{};
        pkt.command = VMPOWER_QUERY_CAPS_LIST;
        q0.sendRaw(&pkt, sizeof pkt);
        std::vector<std::byte> got;
        EXPECT_TRUE(runUntil(*agent_, [&] {
            auto more = q0.receiveAvailable();
            got.insert(got.end(), more.begin(), more.end());
            return got.size() >= VMPOWER_CAPS_LIST_SIZE;
        }));
        std::uint32_t command = 0;
        if (got.size() >= 16) std::memcpy(&command, got.data() + 12, sizeof command);
        return command;
    };
    EXPECT_EQ(query(), std::uint32_t{VMPOWER_CAPS_LIST});

    json off =
        control({{key::kCmd, cmd::kSetQuery}, {key::kName, "vm1"}, {key::kAction, "disable"}});
    ASSERT_EQ(off["ok"], true) << off.dump();
    EXPECT_EQ(query(), std::uint32_t{VMPOWER_CMD_NACK});
    json vm = control({{key::kCmd, cmd::kShowVm}, {key::kName, "vm1"}});
    EXPECT_EQ(vm["channels"][0]["nacks_by_reason"], (json{{"not_allowed", 1}})) << vm.dump();
    json shown = control({{key::kCmd, cmd::kShowRule}, {key::kName, "vm1"}});
    EXPECT_EQ(shown["rule"]["override"], true);
    EXPECT_EQ(shown["rule"]["queries"], false);
    EXPECT_EQ(shown["rule"]["pcpus"], "0-1");  // the rest of its rule is kept

    // Enabling again removes the override instead of stacking another.
    ASSERT_EQ(
        control({{key::kCmd, cmd::kSetQuery}, {key::kName, "vm1"}, {key::kAction, "enable"}})["ok"],
        true);
    EXPECT_EQ(control({{key::kCmd, cmd::kShowRule}, {key::kName, "vm1"}})["rule"]["label"], "lab");
    EXPECT_EQ(query(), std::uint32_t{VMPOWER_CAPS_LIST});

    ASSERT_EQ(
        control(
            {{key::kCmd, cmd::kSetQuery}, {key::kName, "vm1"}, {key::kAction, "disable"}})["ok"],
        true);
    ASSERT_EQ(control({{key::kCmd, cmd::kReload}})["ok"], true);
    EXPECT_EQ(control({{key::kCmd, cmd::kShowRule}, {key::kName, "vm1"}})["rule"]["queries"], true);
    EXPECT_EQ(query(), std::uint32_t{VMPOWER_CAPS_LIST});
}

// A refused reload tells vmpowerctl where the file is wrong; a --log-level
// from the command line outlives reloads.
TEST_F(VmpowerctlOnTestDriver, ReloadShowsTheFilesErrorAndKeepsTheCommandLinesLogLevel) {
    command_line_log_level_ = "warn";
    start(domainXml("vm1", kUuid1, ""));
    auto before = spdlog::get_level();
    spdlog::set_level(spdlog::level::warn);  // as main() does with --log-level warn
    ASSERT_EQ(control({{key::kCmd, cmd::kReload}})["ok"], true);  // the file says info
    EXPECT_EQ(spdlog::get_level(), spdlog::level::warn);

    writeFile(config_path_, "vms:\n  - name: [unclosed\n");
    json refused = control({{key::kCmd, cmd::kReload}});
    expectError(refused, config_path_.string() + ":");
    expectError(refused, "old policy kept");
    EXPECT_EQ(control({{key::kCmd, cmd::kShowRule}, {key::kName, "vm1"}})["rule"]["label"], "lab");
    spdlog::set_level(before);
}

TEST_F(VmpowerctlOnTestDriver, UnknownVmsAndBadArgumentsGetClearErrors) {
    FakeQemuSocket q0(path("vm1.0"));
    startWithVm1(q0);
    expectError(control({{key::kCmd, cmd::kShowVm}, {key::kName, "nope"}}),
                "no running domain 'nope'");
    expectError(control({{key::kCmd, cmd::kShowVm}}), "show-vm: 'name' is required");
    expectError(control({{key::kCmd, cmd::kShowVm}, {key::kName, 7}}),
                "'name' must be a non-empty string");
    expectError(
        control({{key::kCmd, cmd::kSetQuery}, {key::kName, "nope"}, {key::kAction, "enable"}}),
        "no running domain 'nope'");
    expectError(control({{key::kCmd, cmd::kSetQuery}, {key::kName, "vm1"}, {key::kAction, "on"}}),
                "'action' must be enable|disable");
    expectError(control({{key::kCmd, cmd::kSetChannelStatus},
                         {key::kName, "vm1"},
                         {key::kIndex, 0},
                         {key::kStatus, "off"}}),
                "'status' must be enabled|disabled");
    expectError(control({{key::kCmd, cmd::kSetChannelStatus},
                         {key::kName, "vm1"},
                         {key::kIndex, -1},
                         {key::kStatus, "enabled"}}),
                "'index' must be a channel index");
    expectError(control({{key::kCmd, cmd::kSetChannelStatus},
                         {key::kName, "vm1"},
                         {key::kIndex, 5},
                         {key::kStatus, "enabled"}}),
                "vm1 has no power channel 5");
    expectError(control({{key::kCmd, cmd::kSetChannelStatus},
                         {key::kName, "nope"},
                         {key::kIndex, 0},
                         {key::kStatus, "enabled"}}),
                "no running domain 'nope'");
    expectError(control({{key::kCmd, cmd::kShowRule}, {key::kName, "nope"}}),
                "no domain 'nope' known to libvirt");
    expectError(control({{key::kCmd, cmd::kShowCpuFreq}, {key::kCpu, "one"}}),
                "'cpu' must be a CPU number");
    expectError(control({{key::kCmd, cmd::kSetCpuFreq}, {key::kCpu, 0}, {key::kAction, "faster"}}),
                "'action' must be up|down|min|max|middle|enable_turbo|disable_turbo");
    expectError(
        control(
            {{key::kCmd, cmd::kSetPcpu}, {key::kName, "vm1"}, {key::kVcpu, 0}, {key::kPcpus, "x"}}),
        "'pcpus' must be a cpulist");
    expectError(control({{key::kCmd, "frobnicate"}}), "unknown command 'frobnicate'");
    expectError(control(json::array()), "a request is");
    // Nothing above disturbed the channel.
    EXPECT_EQ(channel(kUuid1, 0)->state(), Channel::State::Connected);
}

TEST_F(VmpowerctlOnTestDriver, TheReadOnlyGroupMayReadButChangesNothing) {
    FakeQemuSocket q0(path("vm1.0"));
    startWithVm1(q0);
    auto asReader = [&](const json& req) { return agent_->control(req, ControlAccess::ReadOnly); };
    for (std::string_view c : {cmd::kPing, cmd::kVersion, cmd::kState, cmd::kListChannels}) {
        EXPECT_EQ(asReader({{key::kCmd, c}})["ok"], true) << c;
    }
    EXPECT_EQ(asReader({{key::kCmd, cmd::kShowVm}, {key::kName, "vm1"}})["ok"], true);
    EXPECT_EQ(asReader({{key::kCmd, cmd::kShowRule}, {key::kName, "vm1"}})["ok"], true);
    EXPECT_EQ(asReader({{key::kCmd, cmd::kShowPolicy}, {key::kName, "vm1"}})["ok"], true);
    const std::vector<json> writes = {
        {{key::kCmd, cmd::kSetChannelStatus},
         {key::kName, "vm1"},
         {key::kIndex, 0},
         {key::kStatus, "disabled"}},
        {{key::kCmd, cmd::kSetQuery}, {key::kName, "vm1"}, {key::kAction, "disable"}},
        {{key::kCmd, cmd::kSetCpuFreq}, {key::kCpu, 0}, {key::kAction, "min"}},
        {{key::kCmd, cmd::kSetPcpu}, {key::kName, "vm1"}, {key::kVcpu, 0}, {key::kPcpus, "1"}},
        {{key::kCmd, cmd::kReload}}};
    for (const auto& w : writes) expectError(asReader(w), "permission denied");
    EXPECT_EQ(channel(kUuid1, 0)->state(), Channel::State::Connected) << "nothing was changed";
    EXPECT_EQ(control({{key::kCmd, cmd::kShowRule}, {key::kName, "vm1"}})["rule"]["queries"], true);
}

TEST_F(VmpowerctlOnTestDriver, SetPcpuPinsTheLiveDomain) {
    FakeQemuSocket q0(path("vm1.0"));
    startWithVm1(q0);
    json r = control(
        {{key::kCmd, cmd::kSetPcpu}, {key::kName, "vm1"}, {key::kVcpu, 1}, {key::kPcpus, "1"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    auto dom = lookup(*agent_, "vm1");
    unsigned char maps[2] = {0, 0};
    ASSERT_EQ(virDomainGetVcpuPinInfo(dom.get(), 2, maps, 1, VIR_DOMAIN_AFFECT_LIVE), 2);
    EXPECT_EQ(maps[1], 0x02);
    expectError(control({{key::kCmd, cmd::kSetPcpu},
                         {key::kName, "nope"},
                         {key::kVcpu, 0},
                         {key::kPcpus, "1"}}),
                "nope");
    expectError(
        control(
            {{key::kCmd, cmd::kSetPcpu}, {key::kName, "vm1"}, {key::kVcpu, 9}, {key::kPcpus, "1"}}),
        "vm1");
}

TEST_F(VmpowerctlOnTestDriver, VersionAndListChannels) {
    FakeQemuSocket q0(path("vm1.0"));
    startWithVm1(q0);
    json v = control({{key::kCmd, cmd::kVersion}});
    EXPECT_EQ(v["ok"], true);
    EXPECT_TRUE(v["version"].is_string());
    EXPECT_NE(std::find(v["commands"].begin(), v["commands"].end(), "set-channel-status"),
              v["commands"].end());
    json l = control({{key::kCmd, cmd::kListChannels}});
    ASSERT_EQ(l["channels"].size(), 1u);
    EXPECT_EQ(l["channels"][0]["vm"], "vm1");
    EXPECT_EQ(l["channels"][0]["state"], "connected");
}

// ---- the real binary -------------------------------------------------------

struct CtlRun {
    int status = -1;
    std::string out, err;
};

class VmpowerctlBinary : public VmpowerctlOnTestDriver {
  protected:
    // Runs vmpowerctl with `args` (and `input` on stdin) while the agent's
    // loop serves its control socket.
    CtlRun run(std::vector<std::string> args, const std::string& input = "") {
        const char* exe = std::getenv("VMPOWERCTL");
        if (exe == nullptr) {
            ADD_FAILURE() << "VMPOWERCTL is not set (meson sets it)";
            return {};
        }
        std::filesystem::path out = dir_.path() / "out", err = dir_.path() / "err",
                              in = dir_.path() / "in";
        writeFile(in, input);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        args.insert(args.begin(), exe);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        int rc = posix_spawn(&pid, exe, &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) {
            ADD_FAILURE() << "spawn " << exe << ": " << std::strerror(rc);
            return {};
        }
        CtlRun r;
        int wstatus = 0;
        bool done = runUntil(
            *agent_, [&] { return ::waitpid(pid, &wstatus, WNOHANG) == pid; },
            std::chrono::seconds(20));
        if (!done) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &wstatus, 0);
            ADD_FAILURE() << "vmpowerctl did not finish";
        }
        r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
        r.out = slurp(out);
        r.err = slurp(err);
        return r;
    }
    static std::string slurp(const std::filesystem::path& p) {
        std::ifstream f(p);
        return std::string(std::istreambuf_iterator<char>(f), {});
    }
    std::string socket() { return (dir_.path() / "ctl.sock").string(); }
};

TEST_F(VmpowerctlBinary, OneShotCommandsAndExitStatuses) {
    FakeQemuSocket q0(path("vm1.0"));
    startWithVm1(q0);

    CtlRun show = run({"--socket", socket(), "show_vm", "vm1"});
    EXPECT_EQ(show.status, 0) << show.err;
    EXPECT_NE(show.out.find("VM vm1  uuid " + std::string(kUuid1)), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("connected"), std::string::npos) << show.out;

    CtlRun json_state = run({"--config", config_path_.string(), "state", "--json"});
    EXPECT_EQ(json_state.status, 0) << json_state.err;
    EXPECT_EQ(json::parse(json_state.out)["domains"].size(), 2u);

    CtlRun refused = run({"--socket", socket(), "show-vm", "nope"});
    EXPECT_EQ(refused.status, 1);
    EXPECT_NE(refused.err.find("no running domain 'nope'"), std::string::npos) << refused.err;

    CtlRun usage = run({"--socket", socket(), "set-cpu-freq", "0", "faster"});
    EXPECT_EQ(usage.status, 2);
    CtlRun unknown = run({"--socket", socket(), "frobnicate"});
    EXPECT_EQ(unknown.status, 2);
    CtlRun unreachable = run({"--socket", path("absent.sock"), "state"});
    EXPECT_EQ(unreachable.status, 2);
    EXPECT_NE(unreachable.err.find("cannot reach vmpowerd"), std::string::npos) << unreachable.err;

    CtlRun off = run({"--socket", socket(), "set_channel_status", "vm1", "all", "disabled"});
    EXPECT_EQ(off.status, 0) << off.err;
    EXPECT_EQ(off.out, "vm1: channel 0 disabled\n");
    EXPECT_EQ(channel(kUuid1, 0)->state(), Channel::State::Disabled);
    EXPECT_TRUE(runUntil(*agent_, [&] { return q0.peerClosed(); }));

    CtlRun add = run({"--socket", socket(), "add_vm", "vm1"});
    EXPECT_EQ(add.status, 0) << add.err;
    EXPECT_NE(add.out.find("Nothing to do"), std::string::npos) << add.out;
}

TEST_F(VmpowerctlBinary, PromptReadsCommandsFromAPipe) {
    FakeQemuSocket q0(path("vm1.0"));
    startWithVm1(q0);
    CtlRun r = run({"--socket", socket()}, "ping\nshow-policy vm1\nquit\nping\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("vmpowerd is alive"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("rule #0 'lab'"), std::string::npos) << r.out;
}

TEST_F(VmpowerctlBinary, MaskCommandsScaleEveryCpuOfTheMaskOrNone) {
    FakeQemuSocket q0(path("vm1.0"));
    startWithVm1(q0);
    const std::string cpu0 = "devices/system/cpu/cpufreq/policy0/scaling_setspeed";
    const std::string cpu1 = "devices/system/cpu/cpufreq/policy1/scaling_setspeed";
    const std::string found0 = fixture_->read(cpu0), found1 = fixture_->read(cpu1);

    // CPU 9 does not exist: refused before anything is written.
    CtlRun partial = run({"--socket", socket(), "set_cpu_freq_mask", "0x201", "max"});
    EXPECT_EQ(partial.status, 1) << partial.out;
    EXPECT_NE(partial.err.find("CPU 9"), std::string::npos) << partial.err;
    EXPECT_NE(partial.err.find("nothing was changed"), std::string::npos) << partial.err;
    EXPECT_EQ(fixture_->read(cpu0), found0);

    CtlRun bad = run({"--socket", socket(), "set-cpu-freq-mask", "0xzz", "max"});
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("neither a hex core mask"), std::string::npos) << bad.err;

    CtlRun both = run({"--socket", socket(), "set-cpu-freq-mask", "0x3", "max"});
    EXPECT_EQ(both.status, 0) << both.err;
    EXPECT_NE(both.out.find("CPU 0: max applied"), std::string::npos) << both.out;
    EXPECT_NE(both.out.find("CPU 1: max applied"), std::string::npos) << both.out;
    EXPECT_NE(fixture_->read(cpu0), found0);
    EXPECT_NE(fixture_->read(cpu1), found1);

    CtlRun show = run({"--socket", socket(), "show_cpu_freq_mask", "0-1"});
    EXPECT_EQ(show.status, 0) << show.err;
    EXPECT_NE(show.out.find("CPU 0:"), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("CPU 1:"), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("held by the operator"), std::string::npos) << show.out;

    // The operator's hold stays until released; released twice: exit 1.
    CtlRun release = run({"--socket", socket(), "release-cpu-freq", "0"});
    EXPECT_EQ(release.status, 0) << release.err;
    EXPECT_EQ(release.out, "CPU 0: released; the VMs' requests there are taken again\n");
    EXPECT_EQ(fixture_->read(cpu0), found0) << "nobody else holds it: as found";
    CtlRun again = run({"--socket", socket(), "release-cpu-freq", "0"});
    EXPECT_EQ(again.status, 1);
    EXPECT_NE(again.err.find("the operator holds nothing there"), std::string::npos) << again.err;

    CtlRun pin = run({"--socket", socket(), "set_pcpu_mask", "vm1", "1", "0x2"});
    EXPECT_EQ(pin.status, 0) << pin.err;
    auto dom = lookup(*agent_, "vm1");
    unsigned char maps[2] = {0, 0};
    ASSERT_EQ(virDomainGetVcpuPinInfo(dom.get(), 2, maps, 1, VIR_DOMAIN_AFFECT_LIVE), 2);
    EXPECT_EQ(maps[1], 0x02);
}

TEST_F(VmpowerctlBinary, ShellIsTheSeedsPrompt) {
    FakeQemuSocket q0(path("vm1.0"));
    startWithVm1(q0);
    CtlRun r = run({"--socket", socket(), "shell"}, "ping\nshell\nquit\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("vmpowerd is alive"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("already at the vm_power> prompt"), std::string::npos) << r.out;
    CtlRun help = run({"--help"});
    EXPECT_NE(help.out.find("vm_power> prompt"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace vmpower::test

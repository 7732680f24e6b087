// The command table against a fake agent: which request each command sends,
// its arguments checked before anything is sent, exit statuses, output.
#include "commands.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "control_client.h"
#include "control_protocol.h"
#include "cpu_limits.h"
#include "power_action.h"

namespace vmpower::ctl {
namespace {

using json = nlohmann::json;

// Every request vmpowerctl sends is one the protocol defines, with its
// arguments only (common/control_protocol.h).
void expectInProtocol(const json& req) {
    const protocol::Command* c = protocol::findCommand(req.value("cmd", ""));
    ASSERT_NE(c, nullptr) << req.dump();
    for (auto k : c->args) EXPECT_TRUE(req.contains(k)) << k << " missing: " << req.dump();
    for (const auto& item : req.items()) {
        const std::string k = item.key();  // a variable, not a binding: clang 14 lambdas
        auto in = [&](protocol::Keys keys) {
            return std::find(keys.begin(), keys.end(), k) != keys.end();
        };
        EXPECT_TRUE(k == "cmd" || in(c->args) || in(c->optional)) << k << ": " << req.dump();
    }
}

class FakeAgent {
  public:
    std::map<std::string, json> answers;       // by cmd; default {"ok": true}
    std::function<json(const json&)> respond;  // if set, answers everything
    std::vector<json> requests;
    bool unreachable = false;

    AgentCall call() {
        return [this](const json& req) {
            if (unreachable) throw ControlError("cannot reach vmpowerd at /x.sock: No such file");
            expectInProtocol(req);
            requests.push_back(req);
            if (respond) return respond(req);
            auto it = answers.find(req["cmd"]);
            return it == answers.end() ? json{{"ok", true}} : it->second;
        };
    }
};

const json kVm = {{"ok", true},
                  {"name", "vm1"},
                  {"uuid", "1111"},
                  {"id", 3},
                  {"vcpus", {{{"vcpu", 0}, {"pcpus", "2-3"}}, {{"vcpu", 1}, {"pcpus", "5"}}}},
                  {"channels",
                   {{{"index", 0}, {"state", "connected"}, {"path", "/run/vm1.0"}, {"connects", 1}},
                    {{"index", 2}, {"state", "connecting"}, {"path", "/run/vm1.2"}}}},
                  {"problems", json::array()}};

class Commands : public ::testing::Test {
  protected:
    int run(std::vector<std::string> words, bool as_json = false) {
        out_.str("");
        err_.str("");
        Invocation inv{agent_.call(), out_, err_, as_json};
        return runCommand(words, inv);
    }
    FakeAgent agent_;
    std::ostringstream out_, err_;
};

TEST_F(Commands, EveryDpdkNameIsAccepted) {
    for (const char* n :
         {"add_vm", "rm_vm", "add_channels", "remove_channels", "set_channel_status", "set_pcpu",
          "show_vm", "show_cpu_freq", "set_cpu_freq", "set_query", "quit"}) {
        const CtlCommand* c = findCommand(n);
        ASSERT_NE(c, nullptr) << n;
        EXPECT_TRUE(c->dpdk) << n;
    }
    EXPECT_EQ(findCommand("dump-state")->name, "state");
    EXPECT_EQ(findCommand("exit")->name, "quit");
    EXPECT_EQ(findCommand("show-policy")->name, "show-rule");  // the old name
    EXPECT_EQ(findCommand("frobnicate"), nullptr);
}

TEST_F(Commands, SendsTheAgentsRequests) {
    struct Case {
        std::vector<std::string> words;
        json request;
    };
    const std::vector<Case> cases = {
        {{"show-vm", "vm1"}, {{"cmd", "show-vm"}, {"name", "vm1"}}},
        {{"show_vm"}, {{"cmd", "state"}}},
        {{"show_cpu_freq", "7"}, {{"cmd", "show-cpu-freq"}, {"cpu", 7}}},
        {{"set_cpu_freq", "7", "enable_turbo"},
         {{"cmd", "set-cpu-freq"}, {"cpu", 7}, {"action", "enable_turbo"}}},
        {{"set-pcpu", "vm1", "1", "2-3,5"},
         {{"cmd", "set-pcpu"}, {"name", "vm1"}, {"vcpu", 1}, {"pcpus", "2-3,5"}}},
        {{"set_query", "vm1", "disable"},
         {{"cmd", "set-query"}, {"name", "vm1"}, {"action", "disable"}}},
        {{"show-policy", "vm1"}, {{"cmd", "show-rule"}, {"name", "vm1"}}},
        {{"show-rule", "vm1"}, {{"cmd", "show-rule"}, {"name", "vm1"}}},
        {{"show_rule", "vm1"}, {{"cmd", "show-rule"}, {"name", "vm1"}}},
        {{"list-channels"}, {{"cmd", "list-channels"}}},
        {{"dump-state"}, {{"cmd", "state"}}},
        {{"reload"}, {{"cmd", "reload"}}},
        {{"release-all"}, {{"cmd", "release-all"}}},
        {{"ping"}, {{"cmd", "ping"}}},
        {{"version"}, {{"cmd", "version"}}},
    };
    for (const auto& c : cases) {
        agent_.requests.clear();
        EXPECT_EQ(run(c.words), kExitOk) << c.words[0] << ": " << err_.str();
        ASSERT_EQ(agent_.requests.size(), 1u) << c.words[0];
        EXPECT_EQ(agent_.requests[0], c.request) << c.words[0];
    }
}

TEST_F(Commands, BadArgumentsAreUsageErrorsAndNothingIsSent) {
    const std::vector<std::vector<std::string>> bad = {
        {"show-cpu-freq"},
        {"show-cpu-freq", "x"},
        {"show-cpu-freq", "9000"},
        {"set-cpu-freq", "1", "faster"},
        {"set-cpu-freq", "1"},
        {"set-pcpu", "vm1", "-1", "2"},
        {"set-channel-status", "vm1", "0", "maybe"},
        {"set-channel-status", "vm1", "2-1", "enabled"},
        {"set-query", "vm1", "on"},
        {"show-policy"},
        {"reload", "now"},
        {"release-all", "now"},
        {"frobnicate"},
    };
    for (const auto& words : bad) {
        EXPECT_EQ(run(words), kExitUsage) << words[0];
        EXPECT_FALSE(err_.str().empty()) << words[0];
    }
    EXPECT_TRUE(agent_.requests.empty());
    run({"set-cpu-freq", "1", "faster"});
    EXPECT_NE(err_.str().find("up|down|min|max|middle|enable_turbo|disable_turbo"),
              std::string::npos);
    EXPECT_NE(err_.str().find("usage: set-cpu-freq CPU"), std::string::npos);
}

TEST(CommandTable, SetCpuFreqUsageNamesTheAgentsPowerActions) {
    const CtlCommand* c = findCommand("set-cpu-freq");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->args, "CPU " + joinedNames(kPowerActionNames, "|"));
}

TEST_F(Commands, ARefusalIsStatusOneWithTheAgentsWords) {
    agent_.answers["show-vm"] = {{"ok", false}, {"error", "no running domain 'nope'"}};
    EXPECT_EQ(run({"show-vm", "nope"}), kExitRefused);
    EXPECT_EQ(err_.str(), "vmpowerctl: no running domain 'nope'\n");
    EXPECT_EQ(out_.str(), "");
}

TEST_F(Commands, JsonPrintsTheAnswerEvenWhenRefused) {
    agent_.answers["show-vm"] = {{"ok", false}, {"error", "no running domain 'nope'"}};
    EXPECT_EQ(run({"show-vm", "nope"}, true), kExitRefused);
    EXPECT_EQ(json::parse(out_.str())["error"], "no running domain 'nope'");
    agent_.answers["show-vm"] = kVm;
    EXPECT_EQ(run({"show-vm", "vm1"}, true), kExitOk);
    EXPECT_EQ(json::parse(out_.str()), kVm);
}

TEST_F(Commands, AnUnreachableAgentIsStatusTwo) {
    agent_.unreachable = true;
    EXPECT_EQ(run({"state"}), kExitUnreachable);
    EXPECT_NE(err_.str().find("cannot reach vmpowerd"), std::string::npos);
}

TEST_F(Commands, AMalformedAnswerIsNotACrash) {
    agent_.answers["show-vm"] = json::array({1, 2});
    EXPECT_EQ(run({"show-vm", "vm1"}), kExitRefused);
    agent_.answers["show-vm"] = {{"ok", true}, {"channels", "not a list"}, {"vcpus", 5}};
    EXPECT_EQ(run({"show-vm", "vm1"}), kExitOk);
}

TEST_F(Commands, ChannelStatusTakesAListOrAll) {
    agent_.answers["show-vm"] = kVm;
    agent_.answers["set-channel-status"] = {{"ok", true}, {"state", "disabled"}};
    EXPECT_EQ(run({"set_channel_status", "vm1", "all", "disabled"}), kExitOk);
    ASSERT_EQ(agent_.requests.size(), 3u);  // show-vm, then channels 0 and 2
    EXPECT_EQ(agent_.requests[1]["index"], 0);
    EXPECT_EQ(agent_.requests[2]["index"], 2);
    EXPECT_EQ(agent_.requests[2]["status"], "disabled");
    EXPECT_EQ(out_.str(), "vm1: channel 0 disabled\nvm1: channel 2 disabled\n");

    agent_.requests.clear();
    EXPECT_EQ(run({"set-channel-status", "vm1", "0,2", "enable"}), kExitOk);
    ASSERT_EQ(agent_.requests.size(), 2u);
    EXPECT_EQ(agent_.requests[0]["status"], "enabled");
}

TEST_F(Commands, ChannelStatusAllForAnUnknownVmIsARefusal) {
    agent_.answers["show-vm"] = {{"ok", false}, {"error", "no running domain 'x'"}};
    EXPECT_EQ(run({"set-channel-status", "x", "all", "enabled"}), kExitRefused);
    EXPECT_EQ(agent_.requests.size(), 1u);
}

TEST_F(Commands, ZeroTouchCommandsExplainAndShowWhatIsTracked) {
    agent_.answers["show-vm"] = kVm;
    for (const char* cmd : {"add_vm", "rm_vm", "add_channels", "remove_channels"}) {
        agent_.requests.clear();
        EXPECT_EQ(run({cmd, "vm1"}), kExitOk) << cmd;
        EXPECT_NE(out_.str().find("Nothing to do: vmpowerd"), std::string::npos) << cmd;
        EXPECT_NE(out_.str().find("VM vm1"), std::string::npos) << cmd;
        ASSERT_EQ(agent_.requests.size(), 1u);
        EXPECT_EQ(agent_.requests[0]["cmd"], "show-vm");
    }
    agent_.answers["show-vm"] = {{"ok", false}, {"error", "no running domain 'vm9'"}};
    EXPECT_EQ(run({"add_vm", "vm9"}), kExitRefused);
}

TEST_F(Commands, HelpListsEveryCommandAndNeedsNoAgent) {
    agent_.unreachable = true;
    EXPECT_EQ(run({"help"}), kExitOk);
    for (const auto& c : commandTable()) {
        EXPECT_NE(out_.str().find(std::string(c.name)), std::string::npos) << c.name;
    }
    // Access rules and host policies are told apart.
    EXPECT_NE(out_.str().find("show-rule VM"), std::string::npos);
    EXPECT_NE(out_.str().find("the config file's access rule for a VM"), std::string::npos);
    EXPECT_NE(out_.str().find("set a VM's host policy, DPDK's"), std::string::npos);
    EXPECT_EQ(run({"help", "show-policy"}), kExitOk);
    EXPECT_NE(out_.str().find("usage: show-rule VM"), std::string::npos);
    EXPECT_EQ(run({"help", "set_pcpu"}), kExitOk);
    EXPECT_NE(out_.str().find("usage: set-pcpu VM VCPU CPULIST"), std::string::npos);
}

TEST_F(Commands, SetCommandsSayWhatTheyDid) {
    EXPECT_EQ(run({"set-cpu-freq", "3", "max"}), kExitOk);
    EXPECT_EQ(out_.str(), "CPU 3: max applied (no running VM shares it)\n");
    // Root's override of the shared-hardware rule names whom it touches.
    agent_.answers["set-cpu-freq"] = {{"ok", true}, {"affects", {"vm-a", "vm-b"}}};
    EXPECT_EQ(run({"set-cpu-freq", "2", "min"}), kExitOk);
    EXPECT_EQ(out_.str(), "CPU 2: min applied; it affects vm-a, vm-b\n");
    agent_.answers["set-query"] = {{"ok", true}, {"queries", false}, {"note", "until reload"}};
    EXPECT_EQ(run({"set-query", "vm1", "disable"}), kExitOk);
    EXPECT_EQ(out_.str(), "queries disabled; until reload\n");
}

}  // namespace
}  // namespace vmpower::ctl

namespace vmpower::ctl {
namespace {

TEST_F(Commands, MaskCommandsTakeHexMasksAndCpulists) {
    run({"show_cpu_freq_mask", "0x30"});
    ASSERT_EQ(agent_.requests.size(), 2u) << err_.str();
    EXPECT_EQ(agent_.requests[0], (json{{"cmd", "show-cpu-freq"}, {"cpu", 4}}));
    EXPECT_EQ(agent_.requests[1], (json{{"cmd", "show-cpu-freq"}, {"cpu", 5}}));

    agent_.requests.clear();
    EXPECT_EQ(run({"set-pcpu-mask", "vm1", "1", "0xc"}), kExitOk);
    ASSERT_EQ(agent_.requests.size(), 1u);
    EXPECT_EQ(agent_.requests[0],
              (json{{"cmd", "set-pcpu"}, {"name", "vm1"}, {"vcpu", 1}, {"pcpus", "2-3"}}));
    EXPECT_NE(out_.str().find("pinned to pCPUs 2-3"), std::string::npos);

    agent_.requests.clear();
    EXPECT_EQ(run({"set_cpu_freq_mask", "2,4", "max"}), kExitOk) << err_.str();
    std::vector<json> sets;
    for (const auto& r : agent_.requests)
        if (r["cmd"] == "set-cpu-freq") sets.push_back(r);
    ASSERT_EQ(sets.size(), 2u);
    EXPECT_EQ(sets[0], (json{{"cmd", "set-cpu-freq"}, {"cpu", 2}, {"action", "max"}}));
    EXPECT_EQ(sets[1], (json{{"cmd", "set-cpu-freq"}, {"cpu", 4}, {"action", "max"}}));
}

TEST_F(Commands, AMalformedMaskIsAUsageErrorAndNothingIsSent) {
    const std::string beyond_max_cpu = "0x1" + std::string(kMaxCpu / 4 + 1, '0');
    for (const std::string& mask :
         {std::string("0x"), std::string("0xfg"), std::string("4-"), std::string("0x0"),
          std::string("x1"), std::string("9000"), beyond_max_cpu}) {
        EXPECT_EQ(run({"set-cpu-freq-mask", mask, "max"}), kExitUsage) << mask;
        EXPECT_FALSE(err_.str().empty()) << mask;
    }
    EXPECT_EQ(run({"set-cpu-freq-mask", "0x3", "faster"}), kExitUsage);
    EXPECT_EQ(run({"set-pcpu-mask", "vm1", "0", "0xq"}), kExitUsage);
    EXPECT_TRUE(agent_.requests.empty());
}

TEST_F(Commands, OneUnknownCpuInAMaskChangesNothing) {
    agent_.respond = [](const json& req) {
        if (req["cmd"] == "show-cpu-freq" && req["cpu"] == 5)
            return json{{"ok", false}, {"error", "CPU 5 has no cpufreq"}};
        return json{{"ok", true}};
    };
    EXPECT_EQ(run({"set-cpu-freq-mask", "4-5", "min"}), kExitRefused);
    EXPECT_NE(err_.str().find("CPU 5 has no cpufreq; nothing was changed"), std::string::npos);
    for (const auto& r : agent_.requests) EXPECT_NE(r["cmd"], "set-cpu-freq");
}

}  // namespace
}  // namespace vmpower::ctl

// The control protocol's table is consistent, and says what vmpowerd's
// command table (agent/commands/control_commands.cpp) does today.
#include "control_protocol.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "host_policy.h"

namespace vmpower::protocol {
namespace {

template <typename Range>
bool unique(const Range& words) {
    std::set<std::string_view> seen;
    for (auto w : words) {
        if (!seen.insert(w).second) return false;
    }
    return true;
}

TEST(ControlProtocol, NamesAreUnique) {
    std::set<std::string_view> names;
    for (const auto& c : kCommands) EXPECT_TRUE(names.insert(c.name).second) << c.name;
}

// Pinned from the agent's table: a change here is a change of who may do
// what, and must be made there too.
TEST(ControlProtocol, ReadOnlyFlagsAreTheAgents) {
    const std::map<std::string_view, bool> agent = {
        {"ping", true},          {"version", true},
        {"state", true},         {"show-vm", true},
        {"list-channels", true}, {"show-cpu-freq", true},
        {"set-cpu-freq", false}, {"release-cpu-freq", false},
        {"set-pcpu", false},     {"set-channel-status", false},
        {"set-query", false},    {"show-rule", true},
        {"set-policy", false},   {"remove-policy", false},
        {"energy", true},        {"reload", false},
        {"release-all", false},  {"metrics", true}};
    ASSERT_EQ(kCommands.size(), agent.size());
    for (const auto& c : kCommands) {
        auto it = agent.find(c.name);
        ASSERT_NE(it, agent.end()) << c.name;
        EXPECT_EQ(c.read_only, it->second) << c.name;
    }
}

TEST(ControlProtocol, FindsByWireName) {
    static_assert(findCommand("show-rule") == &kCommands[11]);
    static_assert(findCommand("show-policy") == &kCommands[11]);  // the old name
    EXPECT_EQ(findCommand(cmd::kShowPolicy)->name, cmd::kShowRule);
    EXPECT_EQ(findCommand("frobnicate"), nullptr);
    for (const auto& c : kCommands) EXPECT_EQ(findCommand(c.name), &c);
}

TEST(ControlProtocol, AliasesAreNoCommandsName) {
    for (const auto& a : kAliases) {
        EXPECT_NE(findCommand(a.name), nullptr) << a.name;
        for (const auto& c : kCommands) EXPECT_NE(c.name, a.alias);
    }
}

TEST(ControlProtocol, EachCommandsKeysAreUnique) {
    for (const auto& c : kCommands) {
        std::vector<std::string_view> request(c.args.begin(), c.args.end());
        request.insert(request.end(), c.optional.begin(), c.optional.end());
        EXPECT_TRUE(unique(request)) << c.name;
        EXPECT_TRUE(std::find(request.begin(), request.end(), key::kCmd) == request.end())
            << c.name;
        EXPECT_TRUE(unique(c.reply)) << c.name;
        EXPECT_TRUE(std::find(c.reply.begin(), c.reply.end(), key::kOk) == c.reply.end()) << c.name;
    }
}

// set-policy's fields are the host policy's (common/host_policy.h), besides the VM.
TEST(ControlProtocol, SetPolicyTakesTheHostPolicyFields) {
    const Command& c = *findCommand(cmd::kSetPolicy);
    std::set<std::string_view> sent(c.args.begin(), c.args.end());
    sent.insert(c.optional.begin(), c.optional.end());
    sent.erase(key::kName);
    EXPECT_EQ(sent, std::set<std::string_view>(kHostPolicyFieldNames.begin(),
                                               kHostPolicyFieldNames.end()));
}

TEST(ControlProtocol, ObjectsKeysAreUnique) {
    EXPECT_TRUE(unique(object::kChannel));
    EXPECT_TRUE(unique(object::kDomain));
    EXPECT_TRUE(unique(object::kVcpu));
    EXPECT_TRUE(unique(object::kRule));
    std::set<std::string_view> headings;
    for (const auto& s : object::kChannelStatistics)
        EXPECT_TRUE(headings.insert(s.heading).second) << s.heading;
}

// show-vm answers a domain and more; state's domains are the same objects.
TEST(ControlProtocol, ShowVmRepliesADomain) {
    Keys reply = findCommand(cmd::kShowVm)->reply;
    for (auto k : object::kDomain)
        EXPECT_NE(std::find(reply.begin(), reply.end(), k), reply.end()) << k;
}

}  // namespace
}  // namespace vmpower::protocol

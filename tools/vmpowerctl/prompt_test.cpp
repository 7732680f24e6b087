#include "prompt.h"

#include <gtest/gtest.h>

#include <sstream>

namespace vmpower::ctl {
namespace {

struct Recorder {
    std::vector<std::string> cmds;
    AgentCall call() {
        return [this](const nlohmann::json& req) {
            cmds.push_back(req["cmd"]);
            return nlohmann::json{{"ok", true}};
        };
    }
};

TEST(Prompt, RunsLinesUntilQuitSkippingBlanksAndComments) {
    std::istringstream in("\n# a comment\nping\nset_cpu_freq 2 max\nquit\nreload\n");
    std::ostringstream out, err;
    Recorder r;
    Invocation inv{r.call(), out, err, false};
    StreamLineReader reader(in);
    EXPECT_EQ(runPrompt(reader, inv), 0);
    EXPECT_EQ(r.cmds, (std::vector<std::string>{"ping", "set-cpu-freq"}));
}

TEST(Prompt, KeepsGoingAfterAnErrorAndReturnsTheLastStatus) {
    std::istringstream in("bogus\nshow-vm 'unclosed\nhelp\nset-cpu-freq 1 sideways\n");
    std::ostringstream out, err;
    Recorder r;
    Invocation inv{r.call(), out, err, false};
    StreamLineReader reader(in);
    EXPECT_EQ(runPrompt(reader, inv), kExitUsage);
    EXPECT_NE(err.str().find("unknown command 'bogus'"), std::string::npos);
    EXPECT_NE(err.str().find("unclosed quote"), std::string::npos);
    EXPECT_NE(out.str().find("set-channel-status VM CHANNELS enabled|disabled"), std::string::npos);
    EXPECT_TRUE(r.cmds.empty());
}

TEST(Prompt, ExitIsQuitToo) {
    std::istringstream in("exit\nping\n");
    std::ostringstream out, err;
    Recorder r;
    Invocation inv{r.call(), out, err, false};
    StreamLineReader reader(in);
    EXPECT_EQ(runPrompt(reader, inv), 0);
    EXPECT_TRUE(r.cmds.empty());
}

}  // namespace
}  // namespace vmpower::ctl

#include "command.h"

#include <gtest/gtest.h>

namespace {

using vmpower::guest::Action;
using vmpower::guest::Command;
using vmpower::guest::ParseError;
using vmpower::guest::parseLine;

Command ok(std::string_view line) {
    auto r = parseLine(line);
    EXPECT_TRUE(std::holds_alternative<Command>(r)) << line;
    return std::holds_alternative<Command>(r) ? std::get<Command>(r) : Command{};
}

std::string error(std::string_view line) {
    auto r = parseLine(line);
    EXPECT_TRUE(std::holds_alternative<ParseError>(r)) << line;
    return std::holds_alternative<ParseError>(r) ? std::get<ParseError>(r).message : "";
}

TEST(CommandTest, PromptSyntax) {
    Command c = ok("set_cpu_freq 3 down");
    EXPECT_EQ(c.action, Action::SetCpuFreq);
    EXPECT_EQ(c.core, 3u);
    EXPECT_EQ(c.unit, VMPOWER_SCALE_DOWN);
    EXPECT_EQ(ok("  set_cpu_freq\t0 enable_turbo \r").unit, VMPOWER_ENABLE_TURBO);
    EXPECT_EQ(ok("set_cpu_freq 0 disable_turbo").unit, VMPOWER_DISABLE_TURBO);
    EXPECT_EQ(ok("set_cpu_freq 0 max").unit, VMPOWER_SCALE_MAX);
    EXPECT_EQ(ok("set_cpu_freq 0 min").unit, VMPOWER_SCALE_MIN);
    EXPECT_EQ(ok("set_cpu_freq 0 up").unit, VMPOWER_SCALE_UP);
    c = ok("query_cpu_freq all");
    EXPECT_EQ(c.action, Action::QueryFreq);
    EXPECT_FALSE(c.core);
    c = ok("query_cpu_caps 7");
    EXPECT_EQ(c.action, Action::QueryCaps);
    EXPECT_EQ(c.core, 7u);
    EXPECT_EQ(ok("help").action, Action::Help);
    EXPECT_EQ(ok("quit").action, Action::Quit);
    EXPECT_EQ(ok("").action, Action::Nothing);
    EXPECT_EQ(ok("  # comment").action, Action::Nothing);
}

TEST(CommandTest, CliWordsToo) {
    EXPECT_EQ(ok("set-cpu-freq 1 up").action, Action::SetCpuFreq);
    EXPECT_EQ(ok("query-freq all").action, Action::QueryFreq);
    EXPECT_EQ(ok("query-caps 0").action, Action::QueryCaps);
}

TEST(CommandTest, Errors) {
    EXPECT_NE(error("frobnicate").find("unknown command"), std::string::npos);
    EXPECT_NE(error("set_cpu_freq 0").find("wrong number"), std::string::npos);
    EXPECT_NE(error("set_cpu_freq 0 up now").find("wrong number"), std::string::npos);
    EXPECT_NE(error("set_cpu_freq x up").find("not a core"), std::string::npos);
    EXPECT_NE(error("set_cpu_freq -1 up").find("not a core"), std::string::npos);
    EXPECT_NE(error("set_cpu_freq all up").find("not a core"), std::string::npos);
    EXPECT_NE(error("set_cpu_freq 0 faster").find("up|down"), std::string::npos);
    EXPECT_NE(error("query_cpu_freq 8").find("0-7"), std::string::npos);
    EXPECT_NE(error("quit now").find("wrong number"), std::string::npos);
}

}  // namespace

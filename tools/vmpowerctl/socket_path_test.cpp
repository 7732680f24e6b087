#include "socket_path.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "args.h"
#include "temp_dir.h"

namespace vmpower::ctl {
namespace {

class SocketPath : public ::testing::Test {
  protected:
    std::filesystem::path write(const std::string& text) {
        auto p = dir_ / "vmpower.yaml";
        std::ofstream(p) << text;
        return p;
    }
    test::TempDir temp_;
    const std::filesystem::path& dir_ = temp_.path();
};

TEST_F(SocketPath, SocketOptionWins) {
    auto c = findControlSocket(std::filesystem::path("/x.sock"), "/nonexistent", true);
    EXPECT_EQ(c.socket, "/x.sock");
}

TEST_F(SocketPath, FromTheConfigFile) {
    auto cfg = write("agent:\n  control_socket: /tmp/a.sock\nvms: []\n");
    auto c = findControlSocket(std::nullopt, cfg, true);
    EXPECT_EQ(c.socket, "/tmp/a.sock");
    EXPECT_TRUE(c.warning.empty());
}

TEST_F(SocketPath, BuiltInDefaultWhenTheDefaultConfigIsAbsent) {
    auto c = findControlSocket(std::nullopt, dir_ / "absent.yaml", false);
    EXPECT_EQ(c.socket, "/run/vmpower/vmpowerd.sock");
}

TEST_F(SocketPath, AnAbsentConfigNamedByTheOperatorIsAnError) {
    EXPECT_THROW(findControlSocket(std::nullopt, dir_ / "absent.yaml", true), UsageError);
}

TEST_F(SocketPath, AnInvalidPolicyStillTellsWhereTheSocketIsWithAWarning) {
    // The agent keeps its old policy when a reload fails: reaching it must work.
    auto cfg =
        write("agent:\n  control_socket: /tmp/b.sock\nvms:\n  - name: x\n    bogus_key: 1\n");
    auto c = findControlSocket(std::nullopt, cfg, true);
    EXPECT_EQ(c.socket, "/tmp/b.sock");
    EXPECT_NE(c.warning.find("vmpower.yaml:"), std::string::npos) << c.warning;
}

TEST_F(SocketPath, UnreadableYamlIsAnError) {
    auto cfg = write("agent: [unclosed\n");
    EXPECT_THROW(findControlSocket(std::nullopt, cfg, true), UsageError);
}

}  // namespace
}  // namespace vmpower::ctl

#include "config_reload.h"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.h"

namespace vmpower {
namespace {

class ConfigReload : public testing::Test {
  protected:
    void write(const std::string& text) { std::ofstream(file_, std::ios::trunc) << text; }

    test::TempDir dir_;
    std::filesystem::path file_ = dir_ / "vmpower.yaml";
};

TEST_F(ConfigReload, ValidFileReplacesPolicyAndLogLevel) {
    write("agent:\n  log_level: info\nvms:\n  - name: a\n");
    Config current = loadConfig(file_);
    write("agent:\n  log_level: debug\nvms:\n  - name: b\n");
    ReloadResult r = reloadConfig(file_, current);
    EXPECT_TRUE(r.ok);
    EXPECT_TRUE(r.restart_needed.empty());
    EXPECT_EQ(current.agent.log_level, "debug");
    EXPECT_EQ(current.rules->match("a", ""), nullptr);
    EXPECT_NE(current.rules->match("b", ""), nullptr);
}

TEST_F(ConfigReload, InvalidFileKeepsTheOldPolicy) {
    write("vms:\n  - name: a\n");
    Config current = loadConfig(file_);
    auto old_rules = current.rules;
    write("vms:\n  - name: b\n    pcpus: nonsense\n");
    ReloadResult r = reloadConfig(file_, current);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error.rfind(file_.string() + ":3:12: pcpus", 0), 0U) << r.error;
    EXPECT_EQ(current.rules, old_rules);
    EXPECT_NE(current.rules->match("a", ""), nullptr);
}

TEST_F(ConfigReload, MissingFileKeepsTheOldPolicy) {
    write("vms:\n  - name: a\n");
    Config current = loadConfig(file_);
    std::filesystem::remove(file_);
    EXPECT_FALSE(reloadConfig(file_, current).ok);
    EXPECT_NE(current.rules->match("a", ""), nullptr);
}

TEST_F(ConfigReload, AgentSettingsNeedARestart) {
    write("agent:\n  sysfs_root: /sys\n");
    Config current = loadConfig(file_);
    write("agent:\n  sysfs_root: /elsewhere\n  reply_queue_records: 9\n");
    ReloadResult r = reloadConfig(file_, current);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.restart_needed, (std::vector<std::string>{"sysfs_root", "reply_queue_records"}));
    EXPECT_EQ(current.agent.sysfs_root, "/sys") << "applied only at the next start";
    EXPECT_EQ(current.agent.reply_queue_records, 64U);
}

}  // namespace
}  // namespace vmpower

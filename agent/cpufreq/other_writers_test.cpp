#include "other_writers.h"

#include <gtest/gtest.h>

#include <fstream>

#include "sysfs_fixture.h"

using namespace vmpower;

namespace {
void proc(const std::filesystem::path& root, const std::string& pid, const std::string& comm) {
    std::filesystem::create_directories(root / pid);
    std::ofstream(root / pid / "comm") << comm << "\n";
}
}  // namespace

TEST(CpufreqOtherWriters, FindsTunedPpdAndThermald) {
    vmpower::test::TempDir dir;
    proc(dir.path(), "1", "systemd");
    proc(dir.path(), "812", "tuned");
    proc(dir.path(), "900", "power-profiles-");  // comm keeps 15 characters
    proc(dir.path(), "901", "thermald");
    proc(dir.path(), "902", "thermald");
    proc(dir.path(), "self", "tuned");  // not a pid directory
    proc(dir.path(), "903", "tunedx");
    EXPECT_EQ(findOtherCpufreqWriters(dir.path()),
              (std::vector<std::string>{"power-profiles-daemon", "thermald", "tuned"}));
    EXPECT_EQ(warnAboutOtherCpufreqWriters(dir.path()).size(), 3u);
}

TEST(CpufreqOtherWriters, NothingFoundOrNoProc) {
    vmpower::test::TempDir dir;
    proc(dir.path(), "1", "systemd");
    std::filesystem::create_directories(dir.path() / "2");  // exited: no comm
    EXPECT_TRUE(findOtherCpufreqWriters(dir.path()).empty());
    EXPECT_TRUE(findOtherCpufreqWriters(dir.path() / "missing").empty());
}

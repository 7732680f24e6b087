#include "sysfs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "cpufreq_error.h"
#include "sysfs_fixture.h"
#include "system_error.h"
#include "topology.h"

using namespace vmpower;
using ::testing::HasSubstr;

namespace {
const std::string kMax = "devices/system/cpu/cpufreq/policy0/scaling_max_freq";
const std::string kList = "devices/system/cpu/cpufreq/policy0/scaling_available_frequencies";
}  // namespace

TEST(CpufreqSysfs, ParsesKhzListsAscendingWithoutDuplicates) {
    EXPECT_EQ(parseKhzList("3400000 800000 1600000 800000 \n"),
              (std::vector<std::uint32_t>{800000, 1600000, 3400000}));
    EXPECT_EQ(parseKhzList(""), std::vector<std::uint32_t>{});
    EXPECT_FALSE(parseKhzList("800000 fast"));
    EXPECT_FALSE(parseKhzList("99999999999"));
    EXPECT_EQ(parseKhz(" 2400000\n"), 2400000u);
    EXPECT_FALSE(parseKhz("<unsupported>"));
}

TEST(CpufreqSysfs, ReadsTrimmedAndRaw) {
    vmpower::test::SysfsFixture fx("acpi-cpufreq");
    Sysfs sysfs(fx.root());
    EXPECT_EQ(sysfs.readRaw(kMax), "3400000\n");
    EXPECT_EQ(sysfs.read(kMax), "3400000");
    EXPECT_EQ(sysfs.readKhz(kMax), 3400000u);
    EXPECT_EQ(sysfs.readKhzList(kList).front(), 800000u);
    EXPECT_EQ(sysfs.readKhzList(kList).size(), 14u);
}

TEST(CpufreqSysfs, WritesReplaceTheWholeFileAndAreObserved) {
    vmpower::test::SysfsFixture fx("acpi-cpufreq");
    Sysfs sysfs(fx.root());
    std::vector<std::string> seen;
    sysfs.setWriteObserver([&](const std::string& f, std::string_view v) {
        seen.push_back(f + "=" + std::string(v));
    });
    sysfs.write(kMax, "800000\n");
    EXPECT_EQ(fx.read(kMax), "800000\n");
    EXPECT_EQ(seen, std::vector<std::string>{kMax + "=800000\n"});
}

TEST(CpufreqSysfs, ErrorsNameTheFile) {
    vmpower::test::SysfsFixture fx("acpi-cpufreq");
    Sysfs sysfs(fx.root());
    try {
        sysfs.write("devices/system/cpu/cpufreq/policy9/scaling_max_freq", "1\n");
        FAIL() << "wrote a missing file";
    } catch (const SystemError& e) {
        EXPECT_THAT(e.what(), HasSubstr("policy9/scaling_max_freq"));
    }
    EXPECT_FALSE(
        sysfs.exists("devices/system/cpu/cpufreq/policy9/scaling_max_freq"));  // not created
    fx.write(kMax, "lots\n");
    try {
        sysfs.readKhz(kMax);
        FAIL() << "parsed garbage";
    } catch (const CpufreqError& e) {
        EXPECT_THAT(e.what(), HasSubstr("policy0/scaling_max_freq"));
        EXPECT_THAT(e.what(), HasSubstr("lots"));
    }
    EXPECT_FALSE(sysfs.tryRead("nope"));
}

TEST(CpufreqSysfs, KeepsAWrittenFileOpenAndCutsItToTheValue) {
    vmpower::test::SysfsFixture fx("acpi-cpufreq");
    Sysfs sysfs(fx.root());
    sysfs.write(kMax, "3400000\n");
    sysfs.write(kMax, "800000\n");  // shorter: nothing of the longer value stays
    EXPECT_EQ(fx.read(kMax), "800000\n");
    EXPECT_EQ(sysfs.keptOpen(), 1u);
    // Someone else wrote the file meanwhile: the kept file is the same file.
    fx.write(kMax, "1600000\n");
    sysfs.write(kMax, "2000000\n");
    EXPECT_EQ(fx.read(kMax), "2000000\n");
}

TEST(CpufreqSysfs, AKeptFileThatWasReplacedIsOpenedAgain) {
    vmpower::test::SysfsFixture fx("acpi-cpufreq");
    Sysfs sysfs(fx.root());
    sysfs.write(kMax, "800000\n");
    const auto file = fx.root() / kMax;
    std::filesystem::remove(file);
    fx.write(kMax, "3400000\n");  // a new file at the same path
    sysfs.write(kMax, "1600000\n");
    EXPECT_EQ(fx.read(kMax), "1600000\n");
    EXPECT_EQ(sysfs.keptOpen(), 1u);
}

TEST(CpufreqSysfs, AKeptFileThatWasRemovedFailsItsWriteAndIsForgotten) {
    vmpower::test::SysfsFixture fx("acpi-cpufreq");
    Sysfs sysfs(fx.root());
    sysfs.write(kMax, "800000\n");
    std::filesystem::remove(fx.root() / kMax);
    try {
        sysfs.write(kMax, "1600000\n");
        FAIL() << "wrote a removed file";
    } catch (const SystemError& e) {
        EXPECT_THAT(e.what(), HasSubstr("policy0/scaling_max_freq"));
    }
    EXPECT_FALSE(sysfs.exists(kMax));  // not created again
    EXPECT_EQ(sysfs.keptOpen(), 0u);
}

TEST(CpufreqSysfs, AKeptFileReplacedByASymlinkIsNotFollowed) {
    vmpower::test::SysfsFixture fx("acpi-cpufreq");
    Sysfs sysfs(fx.root());
    sysfs.write(kMax, "800000\n");
    const auto target = fx.scratch("elsewhere") / "target";
    std::ofstream(target) << "untouched\n";
    std::filesystem::remove(fx.root() / kMax);
    std::filesystem::create_symlink(target, fx.root() / kMax);
    EXPECT_THROW(sysfs.write(kMax, "1600000\n"), SystemError);
    std::ifstream in(target);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "untouched\n");
}

TEST(CpufreqSysfs, FormatsFrequenciesAndPolicyPathsOnTheStack) {
    EXPECT_EQ(KhzText(2400000).view(), "2400000\n");
    EXPECT_EQ(KhzText(4294967295u).view(), "4294967295\n");
    CpufreqPolicy p{"policy3", "devices/system/cpu/cpufreq/policy3", CpuSet{3}};
    EXPECT_EQ(PolicyFile(p, "scaling_setspeed").view(),
              "devices/system/cpu/cpufreq/policy3/scaling_setspeed");
    EXPECT_EQ(std::string(PolicyFile(p, "x").view()), p.file("x"));
}

TEST(CpufreqSysfs, BeyondTheKeptOpenCapAFileIsOpenedPerWrite) {
    vmpower::test::SysfsFixture fx("acpi-cpufreq");
    Sysfs sysfs(fx.root());
    for (std::size_t i = 0; i < Sysfs::kMaxKeptOpen; ++i) {
        const std::string f = "scratch" + std::to_string(i);
        fx.write(f, "0\n");
        sysfs.write(f, "1\n");
    }
    EXPECT_EQ(sysfs.keptOpen(), Sysfs::kMaxKeptOpen);
    sysfs.write(kMax, "3400000\n");
    sysfs.write(kMax, "800000\n");
    EXPECT_EQ(fx.read(kMax), "800000\n");
    EXPECT_EQ(sysfs.keptOpen(), Sysfs::kMaxKeptOpen);  // not kept
}

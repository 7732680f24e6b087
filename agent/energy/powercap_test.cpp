#include "powercap.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "sysfs_fixture.h"

namespace vmpower {
namespace {

TEST(Powercap, FindsTheOnePackageAndItsCpus) {
    test::SysfsFixture fx("rapl-one-package");
    PowercapTree t = scanPowercap(fx.root());
    ASSERT_TRUE(t.unavailable.empty()) << t.unavailable;
    ASSERT_EQ(t.packages.size(), 1u);
    const RaplPackage& p = t.packages[0];
    EXPECT_EQ(p.zone, "intel-rapl:0");
    EXPECT_EQ(p.name, "package-0");
    EXPECT_EQ(p.max_energy_range_uj, 262143328850u);
    EXPECT_EQ(p.cpus.toString(), "0-3");
    const auto uj = readEnergyUj(fx.root(), p);
    ASSERT_TRUE(uj) << uj.reason();
    EXPECT_EQ(*uj, 1000000000u);
}

TEST(Powercap, TwoPackagesEachWithItsCpusAndNoSubzonesOrPsys) {
    test::SysfsFixture fx("rapl-two-packages");
    PowercapTree t = scanPowercap(fx.root());
    ASSERT_EQ(t.packages.size(), 2u) << t.unavailable;
    EXPECT_EQ(t.packages[0].cpus.toString(), "0-3");
    EXPECT_EQ(t.packages[1].name, "package-1");
    EXPECT_EQ(t.packages[1].cpus.toString(), "4-7");
    EXPECT_TRUE(t.problems.empty()) << t.problems.front();
    fx.write("devices/virtual/powercap/intel-rapl/intel-rapl:1/energy_uj", "42\n");
    EXPECT_EQ(*readEnergyUj(fx.root(), t.packages[1]), 42u);
}

TEST(Powercap, OfflineCpusAreNotAPackagesCapacity) {
    test::SysfsFixture fx("rapl-two-packages");
    fx.write("devices/system/cpu/online", "0-2,4-7\n");
    PowercapTree t = scanPowercap(fx.root());
    ASSERT_EQ(t.packages.size(), 2u);
    EXPECT_EQ(t.packages[0].cpus.toString(), "0-2");
}

TEST(Powercap, NoTreeIsUnavailableWithTheReason) {
    test::SysfsFixture fx("intel_pstate");  // cpufreq only, no powercap
    PowercapTree t = scanPowercap(fx.root());
    EXPECT_TRUE(t.packages.empty());
    EXPECT_NE(t.unavailable.find("class/powercap"), std::string::npos) << t.unavailable;
}

TEST(Powercap, BadZonesAreSkippedWithAProblemEach) {
    test::SysfsFixture fx("rapl-two-packages");
    fx.write("devices/virtual/powercap/intel-rapl/intel-rapl:1/max_energy_range_uj", "lots\n");
    PowercapTree t = scanPowercap(fx.root());
    ASSERT_EQ(t.packages.size(), 1u);
    ASSERT_EQ(t.problems.size(), 1u);
    EXPECT_NE(t.problems[0].find("intel-rapl:1"), std::string::npos) << t.problems[0];
    fx.write("devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj", "-5\n");
    const auto uj = readEnergyUj(fx.root(), t.packages[0]);
    EXPECT_FALSE(uj);
    EXPECT_NE(uj.reason().find("not a number"), std::string::npos) << uj.reason();
}

TEST(Powercap, EveryZoneBadIsUnavailable) {
    test::SysfsFixture fx("rapl-one-package");
    fx.write("devices/system/cpu/cpu0/topology/physical_package_id", "x\n");
    fx.write("devices/system/cpu/cpu1/topology/physical_package_id", "1\n");
    fx.write("devices/system/cpu/cpu2/topology/physical_package_id", "1\n");
    fx.write("devices/system/cpu/cpu3/topology/physical_package_id", "1\n");
    PowercapTree t = scanPowercap(fx.root());
    EXPECT_TRUE(t.packages.empty());
    EXPECT_NE(t.unavailable.find("no online CPU"), std::string::npos) << t.unavailable;
}

TEST(PowercapParse, NumbersNamesAndZones) {
    EXPECT_EQ(parsePowercapNumber("262143328850\n"), 262143328850u);
    EXPECT_FALSE(parsePowercapNumber(""));
    EXPECT_FALSE(parsePowercapNumber("\n"));
    EXPECT_FALSE(parsePowercapNumber("12 \n"));
    EXPECT_FALSE(parsePowercapNumber("99999999999999999999999"));
    EXPECT_EQ(packageOfZoneName("package-1\n"), 1u);
    EXPECT_FALSE(packageOfZoneName("psys\n"));
    EXPECT_FALSE(packageOfZoneName("package-"));
    EXPECT_TRUE(isTopLevelRaplZone("intel-rapl:12"));
    EXPECT_FALSE(isTopLevelRaplZone("intel-rapl:1:0"));
    EXPECT_FALSE(isTopLevelRaplZone("intel-rapl"));
    EXPECT_FALSE(isTopLevelRaplZone("intel-rapl-mmio:0"));
}

}  // namespace
}  // namespace vmpower

// PowercapTree: the files each RAPL reader needs, atomic replacement,
// the kernel's wrap, continuing an earlier run, and leaving a real tree be.
#include "powercap_tree.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "powercap_text.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using vmpower::guest::GuestCount;
using vmpower::guest::HostCount;
using vmpower::guest::kMaxEnergyRangeUj;
using vmpower::guest::PowercapError;
using vmpower::guest::PowercapTree;
using vmpower::test::TempDir;

std::string slurp(const fs::path& file) {
    return vmpower::guest::readSmallFile(file).value_or("<missing>");
}

ino_t inode(const fs::path& file) {
    struct stat st {};
    return ::stat(file.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST(PowercapTree, LaysOutWhatEveryReaderNeeds) {
    TempDir dir;
    const fs::path root = dir / "powercap";  // created when missing
    PowercapTree tree(root);
    EXPECT_FALSE(tree.continued());
    // node_exporter: every entry with a `name` is a zone and needs
    // max_energy_range_uj; Kepler: intel-rapl:*/energy_uj and the range.
    for (const char* zone : {"intel-rapl:0", "intel-rapl:0:0"}) {
        EXPECT_EQ(slurp(root / zone / "energy_uj"), "0\n") << zone;
        EXPECT_EQ(slurp(root / zone / "max_energy_range_uj"), "262143328850\n") << zone;
        EXPECT_EQ(slurp(root / zone / "enabled"), "1\n") << zone;
    }
    EXPECT_EQ(slurp(root / "intel-rapl:0/name"), "package-0\n");
    EXPECT_EQ(slurp(root / "intel-rapl:0:0/name"), "core\n");
    // As the kernel lays it out: the subzone inside its package, and a
    // top-level link to it (Scaphandre lists intel-rapl:N:M flat).
    EXPECT_TRUE(fs::is_directory(root / "intel-rapl:0/intel-rapl:0:0"));
    EXPECT_TRUE(fs::is_symlink(root / "intel-rapl:0:0"));
    EXPECT_EQ(fs::read_symlink(root / "intel-rapl:0:0"), "intel-rapl:0/intel-rapl:0:0");
    EXPECT_EQ(slurp(root / "intel-rapl/enabled"), "1\n");
    // ... and the zone under its control type, as in the kernel's tree.
    EXPECT_EQ(slurp(root / "intel-rapl/intel-rapl:0/name"), "package-0\n");
    EXPECT_EQ(slurp(root / "intel-rapl/intel-rapl:0/intel-rapl:0:0/name"), "core\n");
    EXPECT_TRUE(vmpower::guest::isMarker(slurp(root / ".vmpower-powercap")));
    // Only zones carry a `name` at the top (node_exporter's test of a zone).
    int named = 0;
    for (const auto& e : fs::directory_iterator(root)) named += fs::exists(e.path() / "name");
    EXPECT_EQ(named, 2);
}

TEST(PowercapTree, AValueIsReplacedByRename) {
    TempDir dir;
    PowercapTree tree(dir.path());
    const fs::path file = dir / "intel-rapl:0/energy_uj";
    const ino_t before = inode(file);
    tree.write(GuestCount{123456, 100000}, HostCount{123456, 100000, 5000});
    EXPECT_EQ(slurp(file), "123456\n");
    EXPECT_EQ(slurp(dir / "intel-rapl:0:0/energy_uj"), "100000\n");
    EXPECT_NE(inode(file), before) << "a new file renamed over the old one";
    for (const auto& e : fs::recursive_directory_iterator(dir.path()))
        EXPECT_NE(e.path().extension(), ".tmp") << "a temporary file left behind";
}

TEST(PowercapTree, WrapsAtTheRangeLikeTheKernel) {
    TempDir dir;
    PowercapTree tree(dir.path());
    const std::uint64_t before = kMaxEnergyRangeUj - 1000;
    tree.write(GuestCount{before, 0}, std::nullopt);
    EXPECT_EQ(slurp(dir / "intel-rapl:0/energy_uj"), std::to_string(before) + "\n");
    const std::uint64_t after_count = kMaxEnergyRangeUj + 500;  // 1500 µJ later
    tree.write(GuestCount{after_count, 0}, std::nullopt);
    const std::uint64_t after =
        *vmpower::guest::parseCounter(slurp(dir / "intel-rapl:0/energy_uj"));
    EXPECT_EQ(after, 500u);
    // What Kepler and Scaphandre compute over a wrap.
    EXPECT_EQ(kMaxEnergyRangeUj - before + after, 1500u);
    tree.write(GuestCount{kMaxEnergyRangeUj, 0}, std::nullopt);
    EXPECT_EQ(slurp(dir / "intel-rapl:0/energy_uj"), "0\n");
}

TEST(PowercapTree, ARestartContinuesFromTheTree) {
    TempDir dir;
    {
        PowercapTree tree(dir.path());
        tree.write(GuestCount{9000, 7000}, HostCount{4000, 3000, 60'000});
    }
    PowercapTree again(dir.path());
    EXPECT_TRUE(again.continued());
    EXPECT_EQ(again.restored(), (GuestCount{9000, 7000}));
    ASSERT_TRUE(again.restoredHost());
    EXPECT_EQ(*again.restoredHost(), (HostCount{4000, 3000, 60'000}));
    EXPECT_EQ(slurp(dir / "intel-rapl:0/energy_uj"), "9000\n") << "not reset by the layout";
}

TEST(PowercapTree, ASecondDaemonOnTheSameTreeIsRefused) {
    TempDir dir;
    PowercapTree first(dir.path());
    first.write(GuestCount{5000, 4000}, HostCount{5000, 4000, 1000});
    try {
        PowercapTree second(dir.path());
        FAIL() << "a second tree on the same root was accepted";
    } catch (const PowercapError& e) {
        EXPECT_NE(std::string(e.what()).find("another vmpower-guest powercap keeps this tree"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_EQ(slurp(dir / "intel-rapl:0/energy_uj"), "5000\n") << "left as the first wrote it";
}

TEST(PowercapTree, ARealRaplZoneIsRefusedAndLeftAlone) {
    TempDir dir;
    fs::create_directory(dir / "intel-rapl:0");
    std::ofstream(dir / "intel-rapl:0/energy_uj") << "42\n";
    try {
        PowercapTree tree(dir.path());
        FAIL() << "a real zone was taken over";
    } catch (const PowercapError& e) {
        EXPECT_NE(std::string(e.what()).find("intel-rapl:0"), std::string::npos) << e.what();
    }
    EXPECT_EQ(slurp(dir / "intel-rapl:0/energy_uj"), "42\n");
    int entries = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir.path())) entries += !e.is_symlink();
    EXPECT_EQ(entries, 2) << "nothing added";
    // Any RAPL-named entry counts, e.g. AMD's.
    TempDir amd;
    fs::create_directory(amd / "amd-rapl");
    EXPECT_THROW(PowercapTree{amd.path()}, PowercapError);
    EXPECT_FALSE(fs::exists(amd / ".vmpower-powercap"));
}

TEST(PowercapTree, OtherEntriesAreFine) {
    TempDir dir;
    fs::create_directory(dir / "dtpm");
    PowercapTree tree(dir.path());
    EXPECT_TRUE(fs::is_directory(dir / "dtpm"));
    EXPECT_TRUE(fs::exists(dir / "intel-rapl:0/energy_uj"));
}

}  // namespace

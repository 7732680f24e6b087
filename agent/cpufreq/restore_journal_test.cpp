#include "restore_journal.h"

#include <gtest/gtest.h>

#include <fstream>

#include "cpufreq_error.h"
#include "sysfs.h"
#include "sysfs_fixture.h"
#include "system_error.h"

using namespace vmpower;
using vmpower::test::SysfsFixture;

namespace {

std::string pol(int n, const char* attr) {
    return "devices/system/cpu/cpufreq/policy" + std::to_string(n) + "/" + attr;
}

struct JournalTest : ::testing::Test {
    SysfsFixture fx{"intel_pstate"};
    Sysfs sysfs{fx.root()};
    std::filesystem::path file = fx.scratch("state") / "cpufreq-journal";
};

}  // namespace

TEST_F(JournalTest, RecordsBeforeAndRestoresByteForByte) {
    RestoreJournal j(sysfs, file);
    j.record("policy0",
             {pol(0, "scaling_min_freq"), pol(0, "scaling_max_freq"), pol(0, "no_such_file")});
    EXPECT_TRUE(std::filesystem::exists(file));
    EXPECT_TRUE(j.has("policy0"));
    EXPECT_EQ(j.entries().size(), 2u);
    sysfs.write(pol(0, "scaling_min_freq"), "2000000");  // no newline: restore puts the bytes back
    sysfs.write(pol(0, "scaling_max_freq"), "2000000");
    j.record("policy0", {pol(0, "scaling_min_freq")});  // already recorded: keeps the originals
    EXPECT_TRUE(j.restore("policy0"));
    EXPECT_TRUE(fx.changedFiles().empty());
    EXPECT_FALSE(std::filesystem::exists(file));  // empty journal is removed
}

TEST_F(JournalTest, RestoreKeepsMinBelowMax) {
    // Original 2000000..3000000; current pinned at 1000000: max must go first.
    fx.write(pol(0, "scaling_min_freq"), "2000000\n");
    fx.write(pol(0, "scaling_max_freq"), "3000000\n");
    const auto before = fx.snapshot();
    RestoreJournal j(sysfs, file);
    j.record("policy0",
             {pol(0, "scaling_governor"), pol(0, "scaling_min_freq"), pol(0, "scaling_max_freq")});
    sysfs.write(pol(0, "scaling_min_freq"), "1000000\n");
    sysfs.write(pol(0, "scaling_max_freq"), "1000000\n");
    std::vector<std::string> order;
    bool crossed = false;
    sysfs.setWriteObserver([&](const std::string& f, std::string_view) {
        order.push_back(std::filesystem::path(f).filename().string());
        crossed = crossed || sysfs.readKhz(pol(0, "scaling_min_freq")) >
                                 sysfs.readKhz(pol(0, "scaling_max_freq"));
    });
    EXPECT_TRUE(j.restore("policy0"));
    EXPECT_EQ(order, (std::vector<std::string>{"scaling_max_freq", "scaling_min_freq"}));
    EXPECT_FALSE(crossed);
    EXPECT_EQ(fx.snapshot(), before);
}

TEST_F(JournalTest, SetspeedBeforeGovernor) {
    SysfsFixture acpi("acpi-cpufreq");
    Sysfs s(acpi.root());
    RestoreJournal j(s, file);
    j.record("policy0", {pol(0, "scaling_governor"), pol(0, "scaling_setspeed")});
    s.write(pol(0, "scaling_governor"), "userspace\n");
    s.write(pol(0, "scaling_setspeed"), "1200000\n");
    std::vector<std::string> order;
    s.setWriteObserver([&](const std::string& f, std::string_view) {
        order.push_back(std::filesystem::path(f).filename().string());
    });
    EXPECT_TRUE(j.restoreAll());
    EXPECT_EQ(order, (std::vector<std::string>{"scaling_setspeed", "scaling_governor"}));
    EXPECT_TRUE(acpi.changedFiles().empty());
}

TEST_F(JournalTest, CrashedJournalIsRestoredAndDeleted) {
    {
        RestoreJournal j(sysfs, file);
        j.record("policy2", {pol(2, "scaling_min_freq"), pol(2, "scaling_max_freq")});
        j.record("turbo:x", {"devices/system/cpu/intel_pstate/no_turbo"});
        sysfs.write(pol(2, "scaling_min_freq"), "4700000\n");
        sysfs.write("devices/system/cpu/intel_pstate/no_turbo", "1\n");
        // The journal object goes away without restoring: a crash.
    }
    ASSERT_TRUE(std::filesystem::exists(file));
    EXPECT_EQ(fx.changedFiles().size(), 2u);
    EXPECT_EQ(RestoreJournal::recoverCrashed(sysfs, file), 3u);
    EXPECT_TRUE(fx.changedFiles().empty());
    EXPECT_FALSE(std::filesystem::exists(file));
    EXPECT_EQ(RestoreJournal::recoverCrashed(sysfs, file), 0u);  // nothing left
}

TEST_F(JournalTest, CorruptOrHostileJournalIsSetAside) {
    for (const char* text :
         {"garbage\n", "vmpower-cpufreq-journal 1\npolicy0\t../../etc/passwd\t30\n",
          "vmpower-cpufreq-journal 1\npolicy0\t/etc/passwd\t30\n",
          "vmpower-cpufreq-journal 1\npolicy0\tfile\tzz\n", ""}) {
        std::ofstream(file) << text;
        EXPECT_EQ(RestoreJournal::recoverCrashed(sysfs, file), 0u) << text;
        EXPECT_FALSE(std::filesystem::exists(file));
        EXPECT_TRUE(std::filesystem::exists(file.string() + ".corrupt"));
        std::filesystem::remove(file.string() + ".corrupt");
    }
    EXPECT_TRUE(fx.changedFiles().empty());
}

TEST_F(JournalTest, UnwritableJournalThrowsAndRecordsNothing) {
    RestoreJournal j(sysfs, fx.scratch("state") / "missing-dir" / "journal");
    EXPECT_THROW(j.record("policy0", {pol(0, "scaling_min_freq")}), CpufreqError);
    EXPECT_FALSE(j.has("policy0"));
}

TEST_F(JournalTest, ALinkPlantedAtTheJournalIsRefusedAndItsTargetUntouched) {
    RestoreJournal j(sysfs, file);
    const auto target = fx.scratch("elsewhere") / "victim";
    std::ofstream(target) << "untouched\n";
    std::filesystem::create_symlink(target, file);
    try {
        j.record("policy0", {pol(0, "scaling_min_freq")});
        FAIL() << "the journal was written through a link";
    } catch (const CpufreqError& e) {
        EXPECT_EQ(std::string(e.what()),
                  file.string() + ": is a symbolic link; refusing to replace it (remove it)");
    }
    EXPECT_FALSE(j.has("policy0"));
    EXPECT_TRUE(std::filesystem::is_symlink(file));
    std::ifstream in(target);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "untouched");
}

namespace {
constexpr const char* kBootA = "0f3a9c1e-1111-4222-8333-944455556666";
constexpr const char* kBootB = "7b2d4e6f-aaaa-4bbb-8ccc-dddd0000eeee";
}  // namespace

TEST_F(JournalTest, AJournalFromAnEarlierBootIsArchivedNotRestored) {
    {
        RestoreJournal j(sysfs, file, kBootA);
        j.record("policy2", {pol(2, "scaling_min_freq")});
        sysfs.write(pol(2, "scaling_min_freq"), "4700000\n");
    }
    // After a reboot the kernel reset policy2; this boot's tuning is what
    // the files hold now, and the old originals must not overwrite it.
    fx.write(pol(2, "scaling_min_freq"), "3100000\n");
    const auto now = fx.snapshot();
    EXPECT_EQ(RestoreJournal::recoverCrashed(sysfs, file, kBootB), 0u);
    EXPECT_EQ(fx.snapshot(), now) << "nothing written";
    EXPECT_FALSE(std::filesystem::exists(file));
    EXPECT_TRUE(std::filesystem::exists(file.string() + ".boot-" + kBootA)) << "kept for people";
}

TEST_F(JournalTest, TheSameBootAndVersion1JournalsAreRestored) {
    {
        RestoreJournal j(sysfs, file, kBootA);
        j.record("policy2", {pol(2, "scaling_min_freq")});
        sysfs.write(pol(2, "scaling_min_freq"), "4700000\n");
    }
    std::ifstream in(file);
    std::string header;
    std::getline(in, header);
    EXPECT_EQ(header, std::string("vmpower-cpufreq-journal 2 boot=") + kBootA);
    EXPECT_EQ(RestoreJournal::recoverCrashed(sysfs, file, kBootA), 1u);
    EXPECT_TRUE(fx.changedFiles().empty());
    // A file an older vmpower wrote has no boot id: restored as before.
    std::ofstream(file) << "vmpower-cpufreq-journal 1\npolicy2\t" << pol(2, "scaling_min_freq")
                        << "\t"
                        << "3830303030300a\n";  // "800000\n"
    EXPECT_EQ(RestoreJournal::recoverCrashed(sysfs, file, kBootB), 1u);
    EXPECT_EQ(sysfs.read(pol(2, "scaling_min_freq")), "800000");
}

TEST_F(JournalTest, AGroupWhoseRestoreFailsIsKeptForTheNextAttempt) {
    const auto original = fx.snapshot();
    {
        RestoreJournal j(sysfs, file, kBootA);
        j.record("policy2", {pol(2, "scaling_min_freq"), pol(2, "energy_performance_preference")});
        sysfs.write(pol(2, "scaling_min_freq"), "4700000\n");
        // The file cannot be written back now (here: replaced by a directory).
        const auto epp = fx.root() / pol(2, "energy_performance_preference");
        std::filesystem::remove(epp);
        std::filesystem::create_directory(epp);
        EXPECT_FALSE(j.restore("policy2"));
        EXPECT_TRUE(j.has("policy2")) << "the originals are not forgotten";
        EXPECT_TRUE(std::filesystem::exists(file)) << "nor lost from disk";
        // A later record of the group keeps the originals, not today's bytes.
        j.record("policy2", {pol(2, "scaling_min_freq")});
        std::filesystem::remove(epp);
        std::ofstream(epp) << "x\n";  // back (with other bytes)
    }
    // The next run loads what is left and restores it.
    EXPECT_EQ(RestoreJournal::recoverCrashed(sysfs, file, kBootA), 2u);
    EXPECT_EQ(fx.snapshot(), original);
    EXPECT_FALSE(std::filesystem::exists(file));
}

TEST_F(JournalTest, SysfsFilesAreNeverFollowedThroughASymlink) {
    const auto target = fx.scratch("elsewhere") / "victim";
    std::ofstream(target) << "precious\n";
    const auto link = fx.root() / pol(0, "scaling_setspeed_link");
    std::filesystem::create_symlink(target, link);
    EXPECT_THROW(sysfs.write(pol(0, "scaling_setspeed_link"), "1\n"), SystemError);
    EXPECT_THROW(sysfs.readRaw(pol(0, "scaling_setspeed_link")), SystemError);
    std::ifstream in(target);
    std::string text;
    std::getline(in, text);
    EXPECT_EQ(text, "precious");
}

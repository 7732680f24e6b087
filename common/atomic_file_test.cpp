#include "atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "temp_dir.h"

namespace vmpower {
namespace {

using test::TempDir;

std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

TEST(AtomicFile, ReplacesTheWholeFileWithTheModeAskedFor) {
    TempDir dir;
    const auto file = dir.path() / "vmpower.prom";
    replaceFileAtomically(file, "first\n", 0600);
    replaceFileAtomically(file, "second\n", 0644);
    EXPECT_EQ(slurp(file), "second\n");
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644U);
    EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));
}

TEST(AtomicFile, AFailureLeavesTheOldFileAndSaysWhy) {
    TempDir dir;
    const auto file = dir.path() / "x.prom";
    replaceFileAtomically(file, "old\n");
    // The target is a directory now: rename fails, the temporary goes away.
    const auto blocked = dir.path() / "blocked.prom";
    std::filesystem::create_directory(blocked);
    std::filesystem::create_directory(blocked / "inside");
    try {
        replaceFileAtomically(blocked, "new\n");
        FAIL() << "renaming over a non-empty directory must fail";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot rename to"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(blocked.string() + ".tmp"));
    EXPECT_THROW(replaceFileAtomically(dir.path() / "no-such-dir" / "f.prom", "x"),
                 std::runtime_error);
    EXPECT_EQ(slurp(file), "old\n");
}

TEST(AtomicFile, AFifoOrLinkPlantedAtTheTemporaryNameNeitherHangsNorRedirects) {
    TempDir dir;
    const auto file = dir.path() / "vmpower.prom";
    const auto tmp = file.string() + ".tmp";
    ASSERT_EQ(::mkfifo(tmp.c_str(), 0666), 0);
    replaceFileAtomically(file, "after a fifo\n");  // must not block on the FIFO
    EXPECT_EQ(slurp(file), "after a fifo\n");

    const auto target = dir.path() / "victim";
    replaceFileAtomically(target, "untouched\n");
    ASSERT_EQ(::symlink(target.c_str(), tmp.c_str()), 0);
    replaceFileAtomically(file, "after a link\n");
    EXPECT_EQ(slurp(file), "after a link\n");
    EXPECT_EQ(slurp(target), "untouched\n") << "the write followed the planted link";
}

TEST(StateFile, ReadsARegularFileAndSaysAbsentForNone) {
    TempDir dir;
    const auto file = dir.path() / "energy.json";
    EXPECT_EQ(readStateFile(file), std::nullopt);
    replaceFileAtomically(file, "{}\n", 0600);
    EXPECT_EQ(readStateFile(file), "{}\n");
}

TEST(StateFile, RefusesALinkAFifoAndAnOversizedFile) {
    TempDir dir;
    const auto real = dir.path() / "real";
    replaceFileAtomically(real, "0123456789");
    const auto link = dir.path() / "link";
    ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
    const auto fifo = dir.path() / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto refusal = [](const std::filesystem::path& p, std::size_t max) -> std::string {
        try {
            (void)readStateFile(p, max);
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "read";
    };
    EXPECT_EQ(refusal(link, 100), link.string() + ": is a symbolic link; refusing to read it");
    EXPECT_EQ(refusal(fifo, 100), fifo.string() + ": is not a regular file; refusing to read it");
    EXPECT_EQ(refusal(real, 4), real.string() + ": 10 bytes, more than the 4 allowed here");
    EXPECT_EQ(refusal(real, 10), "read");
}

TEST(StateFile, AReplacementRefusesALinkOrAFifoAtTheFileAndLeavesThem) {
    TempDir dir;
    const auto target = dir.path() / "victim";
    replaceFileAtomically(target, "untouched\n");
    const auto link = dir.path() / "energy.json";
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    const auto fifo = dir.path() / "intents.json";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto refusal = [](const std::filesystem::path& p) -> std::string {
        try {
            replaceStateFile(p, "new\n", 0600);
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "replaced";
    };
    EXPECT_EQ(refusal(link),
              link.string() + ": is a symbolic link; refusing to replace it (remove it)");
    EXPECT_EQ(refusal(fifo),
              fifo.string() + ": is not a regular file; refusing to replace it (remove it)");
    EXPECT_TRUE(std::filesystem::is_symlink(link));
    EXPECT_EQ(slurp(target), "untouched\n") << "the write followed the planted link";
    EXPECT_TRUE(std::filesystem::is_fifo(fifo));
    EXPECT_FALSE(std::filesystem::exists(link.string() + ".tmp"));

    const auto plain = dir.path() / "kept.json";
    EXPECT_EQ(refusal(plain), "replaced");  // absent: created
    EXPECT_EQ(refusal(plain), "replaced");  // a regular file: replaced
    EXPECT_EQ(slurp(plain), "new\n");
}

TEST(StateFile, AReaderThatFollowsLinksStillRefusesAFifo) {
    TempDir dir;
    const auto real = dir.path() / "vmpower.yaml.real";
    replaceFileAtomically(real, "agent: {}\n");
    const auto link = dir.path() / "vmpower.yaml";
    ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
    EXPECT_EQ(readRegularFile(link, 100, FileLinks::Follow), "agent: {}\n");
    EXPECT_THROW((void)readRegularFile(link, 100, FileLinks::Refuse), std::runtime_error);

    const auto fifo = dir.path() / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const auto fifo_link = dir.path() / "fifo-link";
    ASSERT_EQ(::symlink(fifo.c_str(), fifo_link.c_str()), 0);
    // Returns at once (no writer will ever come), with the reason.
    try {
        (void)readRegularFile(fifo_link, 100, FileLinks::Follow);
        FAIL() << "a FIFO was read";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  fifo_link.string() + ": is not a regular file; refusing to read it");
    }
    EXPECT_EQ(readRegularFile(dir.path() / "none", 100, FileLinks::Follow), std::nullopt);
}

}  // namespace
}  // namespace vmpower

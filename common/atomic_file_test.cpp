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

}  // namespace
}  // namespace vmpower

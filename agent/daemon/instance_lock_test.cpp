#include "instance_lock.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "temp_dir.h"

namespace vmpower {
namespace {

using test::TempDir;

TEST(InstanceLock, TheFirstTakesItAndASecondIsRefusedWithThePid) {
    TempDir dir;
    const auto state = dir.path() / "state";
    auto first = InstanceLock::take(state);
    ASSERT_TRUE(first) << first.reason();
    std::ifstream in(state / InstanceLock::kFileName);
    std::string pid;
    in >> pid;
    EXPECT_EQ(pid, std::to_string(::getpid()));

    // flock belongs to the open file: a second open is a second holder, even
    // in this process.
    auto second = InstanceLock::take(state);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.reason(), "another vmpowerd (pid " + pid + ") runs on the state directory " +
                                   state.string() + "; stop it first");
}

TEST(InstanceLock, IsFreeAgainOnceTheHolderIsGone) {
    TempDir dir;
    {
        auto first = InstanceLock::take(dir.path());
        ASSERT_TRUE(first);
    }
    EXPECT_TRUE(InstanceLock::take(dir.path()));
}

TEST(InstanceLock, RefusesALinkOrAFifoAtItsName) {
    TempDir dir;
    const auto file = dir.path() / InstanceLock::kFileName;
    ASSERT_EQ(::symlink("/etc/passwd", file.c_str()), 0);
    auto linked = InstanceLock::take(dir.path());
    ASSERT_FALSE(linked);
    EXPECT_NE(linked.reason().find("symbolic link"), std::string::npos) << linked.reason();

    ASSERT_EQ(::unlink(file.c_str()), 0);
    ASSERT_EQ(::mkfifo(file.c_str(), 0600), 0);
    auto fifo = InstanceLock::take(dir.path());  // must not hang
    ASSERT_FALSE(fifo);
    EXPECT_NE(fifo.reason().find("not a regular file"), std::string::npos) << fifo.reason();
}

}  // namespace
}  // namespace vmpower

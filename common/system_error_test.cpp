#include "system_error.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "verdict.h"

namespace vmpower {
namespace {

TEST(SystemError, NamesPathWhatAndReason) {
    const SystemError e("/run/x", "open", ENOENT);
    EXPECT_STREQ(e.what(), "/run/x: cannot open: No such file or directory");
    EXPECT_EQ(e.error(), ENOENT);
    EXPECT_EQ(SystemError("bind", EACCES).what(), std::string("cannot bind: Permission denied"));
}

TEST(WriteAll, WritesEverythingThroughAPipe) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    const std::string data(3000, 'x');
    EXPECT_EQ(writeAll(p[1], data), 0);
    ::close(p[1]);
    std::string got(4096, '\0');
    std::size_t n = 0;
    for (ssize_t r; (r = ::read(p[0], got.data() + n, got.size() - n)) > 0;)
        n += static_cast<std::size_t>(r);
    ::close(p[0]);
    EXPECT_EQ(n, data.size());
}

TEST(WriteAll, ReturnsTheErrnoOfAFailedWrite) {
    EXPECT_EQ(writeAll(-1, "x"), EBADF);
}

TEST(Verdict, AcceptedOrRefusedWithReason) {
    EXPECT_TRUE(Verdict::accepted());
    const Verdict no = Verdict::refused("min is not allowed");
    EXPECT_FALSE(no);
    EXPECT_EQ(no.reason(), "min is not allowed");
    // A value that is not trivially destroyed: gcc 12 at -O2 takes an
    // int's variant for a maybe-uninitialized string (a false positive).
    Checked<std::string> v = std::string("3");
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, "3");
    Checked<int> r = Checked<int>::refused("bad");
    EXPECT_FALSE(r);
    EXPECT_EQ(r.reason(), "bad");
    EXPECT_FALSE(r.verdict());
}

}  // namespace
}  // namespace vmpower

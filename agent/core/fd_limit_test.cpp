#include "fd_limit.h"

#include <gtest/gtest.h>

namespace vmpower {
namespace {

TEST(FdLimit, TheSoftLimitIsRaisedToTheHardLimit) {
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
    rlimit low = old;
    low.rlim_cur = 256;  // as a systemd service might start
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    EXPECT_EQ(raiseFdLimit(), old.rlim_max);
    rlimit now{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
    EXPECT_EQ(now.rlim_cur, old.rlim_max);
    EXPECT_EQ(raiseFdLimit(), old.rlim_max) << "already there: unchanged";
}

}  // namespace
}  // namespace vmpower

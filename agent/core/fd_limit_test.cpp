#include "fd_limit.h"

#include <gtest/gtest.h>

#include "fd_budget.h"

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

namespace vmpower {
namespace {

TEST(FdBudget, ChannelsGetWhatTheReserveLeavesAndGiveItBack) {
    EXPECT_EQ(FdBudget::channelsFor(1024), 1024u - FdBudget::kReserve);
    EXPECT_EQ(FdBudget::channelsFor(64), 32u) << "a tiny limit is shared half and half";
    FdBudget b(2);
    auto t1 = b.take();
    auto t2 = b.take();
    EXPECT_TRUE(t1);
    EXPECT_TRUE(t2);
    EXPECT_FALSE(b.take()) << "spent";
    t1.reset();
    EXPECT_EQ(b.used(), 1u);
    FdBudget::Ticket moved = std::move(t2);
    EXPECT_EQ(b.used(), 1u) << "a move keeps the one place";
    {
        auto t3 = b.take();
        EXPECT_TRUE(t3);
    }
    EXPECT_EQ(b.used(), 1u) << "given back when destroyed";
}

}  // namespace
}  // namespace vmpower

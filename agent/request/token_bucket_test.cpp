#include "token_bucket.h"

#include <gtest/gtest.h>

#include "log_throttle.h"

namespace vmpower {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucket, BurstThenRate) {
    ManualClock clock;
    TokenBucket b;
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.take(clock.now(), 10, 5)) << i;
    EXPECT_FALSE(b.take(clock.now(), 10, 5));
    clock.advance(100ms);  // one token at 10/s
    EXPECT_TRUE(b.take(clock.now(), 10, 5));
    EXPECT_FALSE(b.take(clock.now(), 10, 5));
    clock.advance(10s);  // refills to the burst, no further
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.take(clock.now(), 10, 5));
    EXPECT_FALSE(b.take(clock.now(), 10, 5));
}

TEST(TokenBucket, ZeroRateIsUnlimited) {
    ManualClock clock;
    TokenBucket b;
    for (int i = 0; i < 10000; ++i) ASSERT_TRUE(b.take(clock.now(), 0, 1));
}

TEST(TokenBucket, ReloadShrinksBurst) {
    ManualClock clock;
    TokenBucket b;
    EXPECT_TRUE(b.take(clock.now(), 1, 100));  // 99 left
    EXPECT_TRUE(b.take(clock.now(), 1, 2));    // capped to 2, 1 left
    EXPECT_TRUE(b.take(clock.now(), 1, 2));
    EXPECT_FALSE(b.take(clock.now(), 1, 2));
}

TEST(LogThrottle, OnePerIntervalCountingTheRest) {
    ManualClock clock;
    LogThrottle t(10s);
    std::uint64_t held = 99;
    EXPECT_TRUE(t.allow(clock.now(), held));
    EXPECT_EQ(held, 0U);
    EXPECT_FALSE(t.allow(clock.now(), held));
    clock.advance(5s);
    EXPECT_FALSE(t.allow(clock.now(), held));
    clock.advance(5s);
    EXPECT_TRUE(t.allow(clock.now(), held));
    EXPECT_EQ(held, 2U);
}

}  // namespace
}  // namespace vmpower

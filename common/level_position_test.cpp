#include "level_position.h"

#include <gtest/gtest.h>

#include <vector>

namespace vmpower {
namespace {

using Kind = LevelPosition::Kind;
const std::vector<std::uint32_t> kTen{800000,  1000000, 1200000, 1400000, 1600000,
                                      1800000, 2000000, 2200000, 2400000, 2600000};
const std::vector<std::uint32_t> kThree{1000000, 2000000, 3000000};

TEST(LevelPosition, EndsAreNamedNotCounted) {
    EXPECT_EQ(positionOf(2600000, kTen), (LevelPosition{Kind::Max, 0, 0}));
    EXPECT_EQ(positionOf(800000, kTen), (LevelPosition{Kind::Min, 0, 0}));
    EXPECT_EQ(positionOf(2200000, kTen), (LevelPosition{Kind::Step, 2, 10}));
    // Between steps: the one below; below them all: min; above: max.
    EXPECT_EQ(positionOf(2300000, kTen), (LevelPosition{Kind::Step, 2, 10}));
    EXPECT_EQ(positionOf(100, kTen), (LevelPosition{Kind::Min, 0, 0}));
    EXPECT_EQ(positionOf(9000000, kTen), (LevelPosition{Kind::Max, 0, 0}));
    // One step only: it is the top.
    EXPECT_EQ(positionOf(5, std::vector<std::uint32_t>{7}), (LevelPosition{Kind::Max, 0, 0}));
    EXPECT_FALSE(positionOf(1, std::vector<std::uint32_t>{}).has_value());
}

TEST(LevelPosition, EndsMapToTheDestinationsEnds) {
    EXPECT_EQ(levelAt({Kind::Max, 0, 0}, kThree), 3000000u);
    EXPECT_EQ(levelAt({Kind::Min, 0, 0}, kThree), 1000000u);
}

TEST(LevelPosition, AStepKeepsItsShareOfTheRange) {
    // 2 of 9 intervals below the top of ten steps -> 2/9 of 2 intervals
    // rounds to 0, but a middle level stays in the middle: 2.0 GHz.
    EXPECT_EQ(levelAt({Kind::Step, 2, 10}, kThree), 2000000u);
    // The middle of three -> the middle of ten (4.5 rounds up to 5 below the top).
    EXPECT_EQ(levelAt({Kind::Step, 1, 3}, kTen), 1600000u);
    // Same table: the same step.
    for (unsigned k = 1; k <= 8; ++k) {
        EXPECT_EQ(levelAt({Kind::Step, k, 10}, kTen), kTen[9 - k]) << k;
    }
    // Near the bottom of a fine table stays above min on a coarse one.
    EXPECT_EQ(levelAt({Kind::Step, 8, 10}, kThree), 2000000u);
    // Two steps: no middle, nearest end.
    const std::vector<std::uint32_t> two{1000000, 2000000};
    EXPECT_EQ(levelAt({Kind::Step, 1, 10}, two), 2000000u);
    EXPECT_EQ(levelAt({Kind::Step, 8, 10}, two), 1000000u);
    EXPECT_EQ(levelAt({Kind::Step, 1, 3}, std::vector<std::uint32_t>{42}), 42u);
}

TEST(LevelPosition, ImplausibleStepsAreRecognised) {
    EXPECT_TRUE(plausible({Kind::Step, 1, 3}));
    EXPECT_FALSE(plausible({Kind::Step, 0, 3}));  // that is max
    EXPECT_FALSE(plausible({Kind::Step, 2, 3}));  // that is min
    EXPECT_FALSE(plausible({Kind::Step, 1, 2}));  // no middle
    EXPECT_FALSE(plausible({Kind::Step, 5, kMaxLevelSteps + 1}));
    // Never trusted: an implausible step means the top, not an out-of-range index.
    EXPECT_EQ(levelAt({Kind::Step, 4000000000u, 3}, kThree), 3000000u);
}

TEST(LevelPosition, Describe) {
    EXPECT_EQ(describe({Kind::Max, 0, 0}), "max");
    EXPECT_EQ(describe({Kind::Step, 1, 3}), "1 step below max (of 3)");
    EXPECT_EQ(describe({Kind::Step, 2, 10}), "2 steps below max (of 10)");
}

}  // namespace
}  // namespace vmpower

#include "cpu_set.h"

#include <gtest/gtest.h>

using vmpower::CpuSet;

TEST(CpuSet, ParsesRangesAndSingles) {
    auto s = CpuSet::parse("0-3,8,10-11");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->cpus(), (std::vector<unsigned>{0, 1, 2, 3, 8, 10, 11}));
    EXPECT_EQ(s->toString(), "0-3,8,10-11");
}

TEST(CpuSet, AcceptsLibvirtExclusionAndSysfsNewline) {
    auto s = CpuSet::parse("0-7,^3\n");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->toString(), "0-2,4-7");
}

TEST(CpuSet, RejectsGarbageAndHugeNumbers) {
    for (const char* bad :
         {"a", "1-", "-1", "3-1", "1,,2", "99999", "0-4000000000", "^1-2", "1 2"}) {
        EXPECT_FALSE(CpuSet::parse(bad)) << bad;
    }
}

TEST(CpuSet, EmptyTextIsEmptySet) {
    auto s = CpuSet::parse("");
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->empty());
    EXPECT_EQ(s->toString(), "");
}

TEST(CpuSet, SetOperations) {
    CpuSet a{1, 2, 70};
    CpuSet b{2, 3};
    EXPECT_TRUE(a.intersects(b));
    EXPECT_FALSE(CpuSet{70}.intersects(b));
    EXPECT_TRUE((CpuSet{1, 70}).isSubsetOf(a));
    EXPECT_FALSE(b.isSubsetOf(a));
    a |= b;
    EXPECT_EQ(a.toString(), "1-3,70");
    a.remove(70);
    EXPECT_EQ(a, (CpuSet{1, 2, 3}));
    EXPECT_EQ(a.count(), 3u);
}

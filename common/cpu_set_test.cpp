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

TEST(CpuSet, ReadsDpdkHexCoreMasks) {
    EXPECT_EQ(CpuSet::parseMask("0x1"), (CpuSet{0}));
    EXPECT_EQ(CpuSet::parseMask("0x30"), (CpuSet{4, 5}));
    EXPECT_EQ(CpuSet::parseMask("0XaF"), (CpuSet{0, 1, 2, 3, 5, 7}));
    EXPECT_EQ(CpuSet::parseMask("0x10000000000000001"), (CpuSet{0, 64}));
    EXPECT_EQ(CpuSet::parseMask("0x0"), CpuSet{});
    EXPECT_EQ(CpuSet::parseMask("0x00000000000000000000000000000002"), (CpuSet{1}));
    // Not a mask: no 0x, no digits, a non-hex digit, a bit above kMaxCpu.
    for (const char* bad : {"", "0x", "30", "x30", "0x3g", "0x 3", "-0x3", "0x3,1"}) {
        EXPECT_FALSE(CpuSet::parseMask(bad)) << bad;
    }
    std::string huge = "0x1" + std::string(CpuSet::kMaxCpu / 4 + 1, '0');
    EXPECT_FALSE(CpuSet::parseMask(huge));
}

TEST(CpuSet, TakesAMaskOrACpulist) {
    EXPECT_EQ(CpuSet::parseMaskOrList("0x3"), CpuSet::parse("0-1"));
    EXPECT_EQ(CpuSet::parseMaskOrList("3"), (CpuSet{3}));  // a cpulist, not a decimal mask
    EXPECT_EQ(CpuSet::parseMaskOrList("2-3,8"), (CpuSet{2, 3, 8}));
    EXPECT_FALSE(CpuSet::parseMaskOrList("0xz"));
    EXPECT_FALSE(CpuSet::parseMaskOrList("1-"));
}

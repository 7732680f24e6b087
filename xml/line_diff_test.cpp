#include "line_diff.h"

#include <gtest/gtest.h>

namespace vmpower {
namespace {

TEST(LineDiff, EqualTextsGiveNothing) {
    EXPECT_EQ(unifiedDiff("a\nb\n", "a\nb\n", "x", "y"), "");
    EXPECT_EQ(unifiedDiff("", "", "x", "y"), "");
}

TEST(LineDiff, InsertionWithContext) {
    EXPECT_EQ(unifiedDiff("1\n2\n3\n4\n5\n6\n", "1\n2\n3\nnew\n4\n5\n6\n", "a.xml", "b.xml"),
              "--- a.xml\n+++ b.xml\n"
              "@@ -1,6 +1,7 @@\n 1\n 2\n 3\n+new\n 4\n 5\n 6\n");
}

TEST(LineDiff, SeparateHunksAndLineNumbers) {
    std::string a, b;
    for (int i = 1; i <= 20; ++i) {
        a += std::to_string(i) + "\n";
        b += (i == 2 ? std::string("two") : std::to_string(i)) + "\n";
        if (i == 17) b += "17b\n";
    }
    EXPECT_EQ(unifiedDiff(a, b, "a", "b"),
              "--- a\n+++ b\n"
              "@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
              "@@ -15,6 +15,7 @@\n 15\n 16\n 17\n+17b\n 18\n 19\n 20\n");
}

TEST(LineDiff, CloseChangesShareAHunk) {
    EXPECT_EQ(unifiedDiff("a\nb\nc\nd\ne\n", "A\nb\nc\nd\nE\n", "x", "y"),
              "--- x\n+++ y\n@@ -1,5 +1,5 @@\n-a\n+A\n b\n c\n d\n-e\n+E\n");
}

TEST(LineDiff, EmptySides) {
    EXPECT_EQ(unifiedDiff("", "a\nb\n", "x", "y"), "--- x\n+++ y\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    EXPECT_EQ(unifiedDiff("a\n", "", "x", "y"), "--- x\n+++ y\n@@ -1 +0,0 @@\n-a\n");
    EXPECT_EQ(unifiedDiff("1\n2\n3\n4\n5\n", "1\n2\n3\n4\n5\nz\n", "x", "y"),
              "--- x\n+++ y\n@@ -3,3 +3,4 @@\n 3\n 4\n 5\n+z\n");
}

}  // namespace
}  // namespace vmpower

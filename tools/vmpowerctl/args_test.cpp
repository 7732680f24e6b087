#include "args.h"

#include <gtest/gtest.h>

namespace vmpower::ctl {
namespace {

TEST(ParseNumber, AcceptsDecimalsUpToTheBound) {
    EXPECT_EQ(parseNumber("0", 10, "a CPU number"), 0u);
    EXPECT_EQ(parseNumber("10", 10, "a CPU number"), 10u);
}

TEST(ParseNumber, RefusesWhatIsNotANumberWithTheRange) {
    for (const char* bad : {"", "-1", "11", "2x", " 2", "0x2", "99999999999999"}) {
        try {
            parseNumber(bad, 10, "a CPU number");
            ADD_FAILURE() << bad;
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find("a CPU number (0-10)"), std::string::npos)
                << e.what();
        }
    }
}

TEST(ParseIndexList, ListsRangesAndAll) {
    EXPECT_EQ(*parseIndexList("3"), (std::vector<unsigned>{3}));
    EXPECT_EQ(*parseIndexList("5,0-2,1"), (std::vector<unsigned>{0, 1, 2, 5}));
    EXPECT_FALSE(parseIndexList("all").has_value());
}

TEST(ParseIndexList, RefusesMalformedLists) {
    for (const char* bad : {"", ",", "1,", "3-1", "a", "1-", "0-99999"}) {
        EXPECT_THROW(parseIndexList(bad), UsageError) << bad;
    }
}

TEST(SplitWords, SplitsOnBlanksAndKeepsQuotedWords) {
    EXPECT_EQ(splitWords("  set-pcpu  vm1\t0 2-3 "),
              (std::vector<std::string>{"set-pcpu", "vm1", "0", "2-3"}));
    EXPECT_EQ(splitWords("show-vm 'my vm' \"\""),
              (std::vector<std::string>{"show-vm", "my vm", ""}));
    EXPECT_TRUE(splitWords("   ").empty());
    EXPECT_THROW(splitWords("show-vm 'oops"), UsageError);
}

TEST(CanonicalName, DpdkUnderscoresBecomeDashes) {
    EXPECT_EQ(canonicalName("set_cpu_freq"), "set-cpu-freq");
    EXPECT_EQ(canonicalName("show-vm"), "show-vm");
}

}  // namespace
}  // namespace vmpower::ctl

#include <gtest/gtest.h>

#include "power_action.h"
#include "record_format.h"

namespace vmpower {
namespace {

TEST(RecordFormat, SizesAreTheProtocols) {
    EXPECT_EQ(recordSize(RecordFormat::Dpdk464), 464U);
    EXPECT_EQ(recordSize(RecordFormat::Legacy16), 16U);
}

TEST(RecordFormat, NamesRoundTrip) {
    for (const auto& [name, format] : kRecordFormatNames) {
        EXPECT_EQ(recordFormatName(format), name);
        EXPECT_EQ(parseRecordFormat(name), format);
    }
    EXPECT_EQ(recordFormatName(RecordFormat::Legacy16), "legacy-16");
    EXPECT_EQ(parseRecordFormat("dpdk-464"), RecordFormat::Dpdk464);
    EXPECT_EQ(parseRecordFormat("464"), std::nullopt);
}

TEST(PowerAction, NamesRoundTrip) {
    for (const auto& [name, action] : kPowerActionNames) {
        EXPECT_EQ(powerActionName(action), name);
        EXPECT_EQ(parsePowerAction(name), action);
    }
    EXPECT_EQ(parsePowerAction("scale_up"), std::nullopt);
}

TEST(NameTable, JoinedInTableOrder) {
    EXPECT_EQ(joinedNames(kRecordFormatNames, " or "), "dpdk-464 or legacy-16");
    EXPECT_EQ(joinedNames(kPowerActionNames, "|"), "up|down|min|max|middle|enable_turbo|disable_turbo");
}

}  // namespace
}  // namespace vmpower

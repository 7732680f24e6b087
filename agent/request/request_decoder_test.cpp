#include "request_decoder.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace vmpower {
namespace {

using testing::legacyPacket;
using testing::packet;

TEST(RequestDecoder, CpuPower) {
    auto d = decodeRecord(packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MIN, 3));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->format, RecordFormat::Dpdk464);
    EXPECT_EQ(d->kind, RequestKind::CpuPower);
    EXPECT_EQ(d->action, PowerAction::Min);
    EXPECT_EQ(d->resource_id, 3U);
    EXPECT_EQ(d->core_type, CoreType::Virtual);
}

TEST(RequestDecoder, EveryUnit) {
    const std::pair<std::uint32_t, PowerAction> units[] = {
        {1, PowerAction::ScaleUp}, {2, PowerAction::ScaleDown},   {3, PowerAction::Max},
        {4, PowerAction::Min},     {5, PowerAction::EnableTurbo}, {6, PowerAction::DisableTurbo}};
    for (auto [unit, action] : units) EXPECT_EQ(decodeRecord(packet(1, unit, 0))->action, action);
    EXPECT_FALSE(decodeRecord(packet(1, 0, 0))->action);
    EXPECT_FALSE(decodeRecord(packet(1, 7, 0))->action);
    EXPECT_FALSE(decodeRecord(packet(1, 0xffffffff, 0))->action);
}

TEST(RequestDecoder, WrongSizeIsNotARecord) {
    EXPECT_FALSE(decodeRecord(std::vector<std::byte>(456)));
    EXPECT_FALSE(decodeRecord(std::vector<std::byte>(0)));
    EXPECT_FALSE(decodeRecord(std::vector<std::byte>(465)));
}

TEST(RequestDecoder, UnknownCommand) {
    for (std::uint32_t cmd : {0U, 5U, 6U, 11U, 0xffffffffU}) {
        EXPECT_EQ(decodeRecord(packet(cmd, 1, 0))->kind, RequestKind::Unknown) << cmd;
    }
}

TEST(RequestDecoder, GarbageConnectReadsOnlyCommand) {
    std::vector<std::byte> rec(464, std::byte{0xA5});  // uninitialised stack, as DPDK sends
    std::uint32_t cmd = VMPOWER_CPU_POWER_CONNECT;
    std::memcpy(rec.data() + 12, &cmd, 4);
    auto d = decodeRecord(rec);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->kind, RequestKind::Connect);
    EXPECT_EQ(d->unit, 0U);
    EXPECT_EQ(d->resource_id, 0U);
    EXPECT_FALSE(d->action);
}

TEST(RequestDecoder, CoreTypeByteNeverLoadedAsBool) {
    auto rec = packet(1, 1, 0);
    rec[offsetof(vmpower_packet, core_type)] = std::byte{1};
    EXPECT_EQ(decodeRecord(rec)->core_type, CoreType::Physical);
    rec[offsetof(vmpower_packet, core_type)] = std::byte{0x7f};
    EXPECT_EQ(decodeRecord(rec)->core_type, CoreType::Invalid);
}

TEST(RequestDecoder, Legacy16) {
    auto d = decodeRecord(legacyPacket(VMPOWER_CPU_POWER, VMPOWER_SCALE_DOWN, 1));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->format, RecordFormat::Legacy16);
    EXPECT_EQ(d->action, PowerAction::ScaleDown);
    EXPECT_EQ(d->resource_id, 1U);
    EXPECT_EQ(d->core_type, CoreType::Virtual);
}

TEST(RequestDecoder, HugeResourceIdKeptWhole) {
    auto d = decodeRecord(packet(1, 1, std::uint64_t{1} << 63));
    EXPECT_EQ(d->resource_id, std::uint64_t{1} << 63);
}

}  // namespace
}  // namespace vmpower

// The request bytes against the golden bytes captured from Debian's
// librte_power (shared/reference/dpdk-wire-protocol.md), and reply framing.
#include "wire.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes encode(bool legacy, std::uint64_t id, std::uint32_t unit, std::uint32_t cmd) {
    Bytes buf(VMPOWER_PACKET_SIZE, 0xAA);  // garbage that must not leak out
    buf.resize(vmpower_wire_encode(buf.data(), legacy, id, unit, cmd));
    return buf;
}

Bytes golden(std::uint8_t lcore, std::uint8_t unit, std::uint8_t command) {
    Bytes b(VMPOWER_PACKET_SIZE, 0);
    b[0] = lcore;
    b[8] = unit;
    b[12] = command;
    return b;
}

TEST(WireTest, FreqUpOfLcore0MatchesDpdkGoldenBytes) {
    // 00000000 00000000 01000000 01000000 then 448 zero bytes
    Bytes expected = {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
    expected.resize(VMPOWER_PACKET_SIZE, 0);
    EXPECT_EQ(encode(false, 0, VMPOWER_SCALE_UP, VMPOWER_CPU_POWER), expected);
}

TEST(WireTest, Lcore1IsResourceId1) {
    EXPECT_EQ(encode(false, 1, VMPOWER_SCALE_UP, VMPOWER_CPU_POWER), golden(1, 1, 1));
}

TEST(WireTest, EveryUnitAndQueryIsZeroElsewhere) {
    for (std::uint8_t unit = VMPOWER_SCALE_UP; unit <= VMPOWER_DISABLE_TURBO; ++unit)
        EXPECT_EQ(encode(false, 3, unit, VMPOWER_CPU_POWER), golden(3, unit, 1));
    EXPECT_EQ(encode(false, 2, 0, VMPOWER_QUERY_FREQ_LIST), golden(2, 0, 7));
    EXPECT_EQ(encode(false, 2, 0, VMPOWER_QUERY_CAPS), golden(2, 0, 10));
}

TEST(WireTest, LegacyRecordIs16Bytes) {
    Bytes expected = golden(5, VMPOWER_SCALE_DOWN, VMPOWER_CPU_POWER);
    expected.resize(VMPOWER_PACKET_V1_SIZE);
    EXPECT_EQ(encode(true, 5, VMPOWER_SCALE_DOWN, VMPOWER_CPU_POWER), expected);
}

TEST(WireTest, ResourceIdIsLittleEndian64Bit) {
    Bytes b = encode(false, 0x0102030405060708ULL, 0, VMPOWER_CPU_POWER);
    EXPECT_EQ(b[0], 0x08);
    EXPECT_EQ(b[7], 0x01);
}

TEST(WireTest, ReplySizeComesFromTheCommand) {
    EXPECT_EQ(vmpower_wire_frame_size(golden(0, 1, 1).data(), 15, false), 0u);  // need more
    EXPECT_EQ(vmpower_wire_frame_size(golden(0, 1, 1).data(), 16, false), VMPOWER_PACKET_SIZE);
    EXPECT_EQ(vmpower_wire_frame_size(golden(0, 1, 2).data(), 16, false), VMPOWER_PACKET_SIZE);
    EXPECT_EQ(vmpower_wire_frame_size(golden(0, 0, 3).data(), 16, false), VMPOWER_FREQ_LIST_SIZE);
    EXPECT_EQ(vmpower_wire_frame_size(golden(0, 0, 4).data(), 16, false), VMPOWER_CAPS_LIST_SIZE);
    EXPECT_EQ(vmpower_wire_frame_size(golden(0, 0, 9).data(), 16, false), VMPOWER_WIRE_UNKNOWN);
    EXPECT_EQ(vmpower_wire_frame_size(golden(0, 0, 9).data(), 16, true), VMPOWER_PACKET_V1_SIZE);
}

TEST(WireTest, HeaderReadsTheFirst16Bytes) {
    auto h = vmpower_wire_read_header(golden(7, 4, 2).data());
    EXPECT_EQ(h.resource_id, 7u);
    EXPECT_EQ(h.unit, 4u);
    EXPECT_EQ(h.command, 2u);
}

}  // namespace

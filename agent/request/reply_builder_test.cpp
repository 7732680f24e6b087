#include "reply_builder.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace vmpower {
namespace {

using testing::fieldAt;

// Offsets of the 464-byte record's padding: after num_vcpu, core_type and
// t_boost_status.
bool isPadding(std::size_t i) {
    return (i >= 153 && i < 156) || (i >= 445 && i < 448) || i >= 457;
}

TEST(ReplyBuilder, EchoCopiesEveryFieldAndZeroesPadding) {
    std::vector<std::byte> req(464);
    for (std::size_t i = 0; i < req.size(); ++i) req[i] = static_cast<std::byte>(0x80 | (i & 0x7f));
    auto reply = echoReply(req, VMPOWER_CMD_NACK);
    ASSERT_EQ(reply.size(), 464U);
    EXPECT_EQ(testing::replyCommand(reply), 2U);
    for (std::size_t i = 0; i < 464; ++i) {
        if (i >= 12 && i < 16) continue;  // command
        if (isPadding(i)) {
            EXPECT_EQ(reply[i], std::byte{0}) << "padding byte " << i;
        } else {
            EXPECT_EQ(reply[i], req[i]) << "field byte " << i;
        }
    }
}

TEST(ReplyBuilder, Echo16) {
    auto req = testing::legacyPacket(1, 3, 7);
    auto reply = echoReply(req, VMPOWER_CMD_ACK);
    EXPECT_EQ(reply, req);
    reply = echoReply(req, VMPOWER_CMD_NACK);
    EXPECT_EQ(testing::replyCommand(reply), 2U);
    EXPECT_EQ(fieldAt<std::uint64_t>(reply, 0), 7U);
}

TEST(ReplyBuilder, FreqListLayout) {
    std::vector<std::byte> req(464, std::byte{0xEE});  // nothing but the header may come through
    PerVcpu v;
    v.num_vcpu = 3;
    v.a = {1000000, 2000000, 3000000};
    auto r = freqListReply(req, VMPOWER_FREQ_LIST, v);
    ASSERT_EQ(r.size(), 88U);
    EXPECT_EQ(fieldAt<std::uint64_t>(r, 0), 0xEEEEEEEEEEEEEEEEULL);  // resource_id echoed
    EXPECT_EQ(fieldAt<std::uint32_t>(r, 8), 0xEEEEEEEEU);            // unit echoed
    EXPECT_EQ(fieldAt<std::uint32_t>(r, 12), 3U);
    for (std::size_t i = 16; i < 48; ++i) EXPECT_EQ(r[i], std::byte{0xEE});  // vm_name echoed
    EXPECT_EQ(fieldAt<std::uint32_t>(r, 48), 1000000U);
    EXPECT_EQ(fieldAt<std::uint32_t>(r, 52), 2000000U);
    EXPECT_EQ(fieldAt<std::uint32_t>(r, 56), 3000000U);
    for (std::size_t i = 60; i < 80; ++i) EXPECT_EQ(r[i], std::byte{0}) << i;
    EXPECT_EQ(fieldAt<std::uint8_t>(r, 80), 3U);
    for (std::size_t i = 81; i < 88; ++i) EXPECT_EQ(r[i], std::byte{0}) << "padding " << i;
}

TEST(ReplyBuilder, CapsListLayout) {
    std::vector<std::byte> req(464, std::byte{0xEE});
    PerVcpu v;
    v.num_vcpu = 8;
    v.a = {1, 0, 1, 0, 1, 0, 1, 1};
    v.b = {0, 1, 0, 0, 0, 0, 0, 1};
    auto r = capsListReply(req, VMPOWER_CAPS_LIST, v);
    ASSERT_EQ(r.size(), 184U);
    EXPECT_EQ(fieldAt<std::uint32_t>(r, 12), 4U);
    for (std::size_t i = 0; i < 8; ++i) {
        EXPECT_EQ(fieldAt<std::uint64_t>(r, 48 + 8 * i), v.a[i]);
        EXPECT_EQ(fieldAt<std::uint64_t>(r, 112 + 8 * i), v.b[i]);
    }
    EXPECT_EQ(fieldAt<std::uint8_t>(r, 176), 8U);
    for (std::size_t i = 177; i < 184; ++i) EXPECT_EQ(r[i], std::byte{0}) << "padding " << i;
}

TEST(ReplyBuilder, NumVcpuNeverAboveEight) {
    std::vector<std::byte> req(464);
    PerVcpu v;
    v.num_vcpu = 200;
    EXPECT_EQ(fieldAt<std::uint8_t>(freqListReply(req, 3, v), 80), 8U);
    EXPECT_EQ(fieldAt<std::uint8_t>(capsListReply(req, 4, v), 176), 8U);
}

}  // namespace
}  // namespace vmpower

// Golden bytes captured from Debian 12's librte_power (DPDK 22.11):
// docs/protocol.md, "Golden bytes".
#include <gtest/gtest.h>

#include "test_support.h"

namespace vmpower {
namespace {

using namespace vmpower::testing;

std::vector<std::byte> fromHex(std::string_view hex) {
    std::vector<std::byte> out;
    for (std::size_t i = 0; i + 1 < hex.size();) {
        if (hex[i] == ' ') {
            ++i;
            continue;
        }
        out.push_back(
            static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
        i += 2;
    }
    return out;
}

// rte_power_freq_up(lcore): resource_id = lcore, unit 1, command 1, then 448 zero bytes.
std::vector<std::byte> freqUp(std::string_view first_byte) {
    auto bytes = fromHex(std::string(first_byte) + "000000 00000000 01000000 01000000");
    bytes.resize(464);
    return bytes;
}

TEST(GoldenBytes, OurLayoutMatchesLibrtePower) {
    EXPECT_EQ(packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_UP, 0), freqUp("00"));
    EXPECT_EQ(packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_UP, 1), freqUp("01"));
}

TEST(GoldenBytes, AckOfFreqUpIsByteIdentical) {
    HandlerRig rig;
    auto req = freqUp("00");
    EXPECT_EQ(rig.send(req), req);
    ASSERT_EQ(rig.power.calls.size(), 1U);
    EXPECT_EQ(rig.power.calls[0].who.number(), 0U);
    EXPECT_EQ(rig.power.calls[0].action, PowerAction::ScaleUp);
}

TEST(GoldenBytes, Lcore1ScalesVcpu1) {
    HandlerRig rig;
    auto req = freqUp("01");
    EXPECT_EQ(rig.send(req), req);
    EXPECT_EQ(rig.power.calls.at(0).pcpus, CpuSet{3});
}

TEST(GoldenBytes, NackDiffersOnlyInCommand) {
    HandlerRig rig(allowAll("someone-else"));
    auto req = freqUp("00");
    auto nack = rig.send(req);
    auto expected = req;
    expected[12] = std::byte{2};
    EXPECT_EQ(nack, expected);
}

}  // namespace
}  // namespace vmpower

// VMPOWER_QUERY_ENERGY on the request path: who is answered, with what
// bytes, and that nothing but the VM's own reading reaches it.
#include "energy_answer.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "test_support.h"

namespace vmpower {
namespace {

using namespace vmpower::testing;

class FakeEnergy final : public EnergySource {
  public:
    // The operator's reading is never the guest's answer.
    std::optional<VmEnergyReading> reading(std::string_view) const override {
        ADD_FAILURE() << "the guest asked for the operator's reading";
        return std::nullopt;
    }
    std::optional<VmEnergyReading> guestReading(std::string_view uuid) const override {
        ++lookups;
        auto it = readings.find(std::string(uuid));
        if (it == readings.end()) return std::nullopt;
        return it->second;
    }
    std::map<std::string, VmEnergyReading> readings;
    mutable int lookups = 0;
};

VmEnergyReading sampleReading() {
    VmEnergyReading r;
    r.energy_uj = 0x0102030405060708ULL;
    r.watched_ms = 61'000;
    r.power_mw = 12'345;
    r.interval_ms = 1000;
    r.gap = true;
    r.vcpu_count = 2;
    r.vcpu_uj[0] = 7'000'000;
    r.vcpu_uj[1] = 5'000'000;
    return r;
}

// Little-endian fields at the protocol's offsets, read byte by byte.
std::uint64_t le(std::span<const std::byte> b, std::size_t offset, std::size_t size) {
    std::uint64_t v = 0;
    for (std::size_t i = size; i-- > 0;)
        v = (v << 8) | std::to_integer<std::uint64_t>(b[offset + i]);
    return v;
}

AccessRule energyAllowed() {
    AccessRule r = allowAll();
    r.energy = true;
    return r;
}

TEST(EnergyQuery, AnsweredWithTheVmsOwnReadingLittleEndian) {
    FakeEnergy energy;
    energy.readings[kVm1Uuid] = sampleReading();
    energy.readings["another-vm"] = VmEnergyReading{};
    HandlerRig rig(energyAllowed(), {.energy = &energy});
    auto req = packet(VMPOWER_QUERY_ENERGY, 0, 0, "vm1");
    auto reply = rig.send(req);
    ASSERT_EQ(reply.size(), VMPOWER_ENERGY_SIZE);
    using E = vmpower_energy;
    EXPECT_EQ(le(reply, offsetof(E, command), 4), VMPOWER_ENERGY);
    EXPECT_EQ(le(reply, offsetof(E, flags), 4), VMPOWER_ENERGY_AVAILABLE | VMPOWER_ENERGY_GAP);
    EXPECT_EQ(le(reply, offsetof(E, num_vcpu), 4), 2u);
    EXPECT_EQ(le(reply, offsetof(E, energy_uj), 8), 0x0102030405060708ULL);
    EXPECT_EQ(std::to_integer<int>(reply[offsetof(E, energy_uj)]), 0x08) << "low byte first";
    EXPECT_EQ(le(reply, offsetof(E, watched_ms), 8), 61'000u);
    EXPECT_EQ(le(reply, offsetof(E, power_mw), 4), 12'345u);
    EXPECT_EQ(le(reply, offsetof(E, interval_ms), 4), 1000u);
    EXPECT_EQ(le(reply, offsetof(E, vcpu_energy_uj), 8), 7'000'000u);
    EXPECT_EQ(le(reply, offsetof(E, vcpu_energy_uj) + 8, 8), 5'000'000u);
    for (std::size_t i = offsetof(E, vcpu_energy_uj) + 16; i < reply.size(); ++i)
        ASSERT_EQ(std::to_integer<int>(reply[i]), 0) << "byte " << i;
    EXPECT_EQ(std::memcmp(reply.data() + offsetof(E, vm_name), "vm1", 4), 0) << "echoed";
    EXPECT_EQ(rig.counters().answered, 1u);
    EXPECT_EQ(energy.lookups, 1);
    EXPECT_TRUE(rig.power.calls.empty());
}

TEST(EnergyQuery, NoReadingIsUnavailableNotZeroEnergy) {
    FakeEnergy energy;  // knows no VM
    HandlerRig rig(energyAllowed(), {.energy = &energy});
    auto reply = rig.send(packet(VMPOWER_QUERY_ENERGY, 0, 0));
    ASSERT_EQ(reply.size(), VMPOWER_ENERGY_SIZE);
    EXPECT_EQ(le(reply, offsetof(vmpower_energy, command), 4), VMPOWER_ENERGY);
    EXPECT_EQ(le(reply, offsetof(vmpower_energy, flags), 4), 0u);
    HandlerRig without(energyAllowed());  // no source at all
    EXPECT_EQ(
        le(without.send(packet(VMPOWER_QUERY_ENERGY, 0, 0)), offsetof(vmpower_energy, flags), 4),
        0u);
}

TEST(EnergyQuery, RefusedUnlessTheRuleAllowsIt) {
    FakeEnergy energy;
    energy.readings[kVm1Uuid] = sampleReading();
    HandlerRig rig(allowAll(), {.energy = &energy});  // allowAll(): energy false by default
    auto req = packet(VMPOWER_QUERY_ENERGY, 0, 0);
    auto reply = rig.send(req);
    ASSERT_EQ(reply.size(), VMPOWER_PACKET_SIZE) << "a NACK frames like the answer";
    EXPECT_EQ(replyCommand(reply), VMPOWER_CMD_NACK);
    EXPECT_EQ(energy.lookups, 0);
    HandlerRig unmatched(allowAll("other-*"));
    EXPECT_EQ(replyCommand(unmatched.send(req)), VMPOWER_CMD_NACK);
}

TEST(EnergyQuery, LegacyRecordsGetALegacyNack) {
    AccessRule rule = energyAllowed();
    rule.record_format = RecordFormat::Legacy16;
    HandlerRig rig(rule);
    auto reply = rig.send(legacyPacket(VMPOWER_QUERY_ENERGY, 0, 0));
    ASSERT_EQ(reply.size(), VMPOWER_PACKET_V1_SIZE);
    EXPECT_EQ(replyCommand(reply), VMPOWER_CMD_NACK);
}

TEST(EnergyQuery, TheReplyCarriesNoRequestBytesBeyondTheHeader) {
    auto req = packet(VMPOWER_QUERY_ENERGY, 0, 0, "vm1");
    std::memset(req.data() + offsetof(vmpower_packet, vfid), 0xAB,
                req.size() - offsetof(vmpower_packet, vfid));  // garbage after the header
    auto reply = energyReply(req, std::nullopt);
    for (std::size_t i = offsetof(vmpower_energy, flags); i < reply.size(); ++i)
        ASSERT_EQ(std::to_integer<int>(reply[i]), 0) << "byte " << i;
}

}  // namespace
}  // namespace vmpower

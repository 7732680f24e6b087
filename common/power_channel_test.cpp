#include "power_channel.h"

#include <gtest/gtest.h>

#include <string>

namespace vmpower {
namespace {

TEST(PowerChannel, IndexAsADpdkGuestSpellsIt) {
    EXPECT_EQ(parsePowerChannelIndex("0"), 0U);
    EXPECT_EQ(parsePowerChannelIndex("7"), 7U);
    EXPECT_EQ(parsePowerChannelIndex("4095"), 4095U);
    EXPECT_EQ(parsePowerChannelIndex(std::to_string(kMaxPowerChannelIndex)), kMaxPowerChannelIndex);
    for (const char* bad : {"", "02", "00", "+1", "-1", " 1", "1 ", "1a", "0x1", "4096",
                            "99999999999999999999999", "1.0"}) {
        EXPECT_EQ(parsePowerChannelIndex(bad), std::nullopt) << "'" << bad << "'";
    }
}

TEST(PowerChannel, IndexLimitIsTheVcpuLimit) {
    EXPECT_EQ(kMaxPowerChannelIndex + 1, kMaxVcpus);
}

TEST(PowerChannel, NameAndPrefix) {
    EXPECT_EQ(kPowerChannelPrefix, "virtio.serial.port.poweragent.");
    EXPECT_EQ(powerChannelName(3), "virtio.serial.port.poweragent.3");
    EXPECT_TRUE(hasPowerChannelPrefix("virtio.serial.port.poweragent.3"));
    EXPECT_TRUE(hasPowerChannelPrefix("virtio.serial.port.poweragent.x"));  // ours, damaged
    EXPECT_FALSE(hasPowerChannelPrefix("virtio.serial.port.poweragen.1"));
    EXPECT_FALSE(hasPowerChannelPrefix("org.qemu.guest_agent.0"));
}

TEST(PowerChannel, SocketPathLimitIsSunPathWithoutItsNul) {
    EXPECT_EQ(kMaxSocketPathBytes, sizeof(sockaddr_un::sun_path) - 1);
}

PowerChannelSource usable(std::string_view path = "/run/p.0") {
    return {.type = "unix", .target_type = "virtio", .source_path = path, .source_mode = "bind"};
}

TEST(PowerChannel, UsableBindOrAbsentMode) {
    EXPECT_EQ(powerChannelFlaw(usable()), PowerChannelFlaw::None);
    PowerChannelSource no_mode = usable();
    no_mode.source_mode = "";
    EXPECT_EQ(powerChannelFlaw(no_mode), PowerChannelFlaw::None);
}

TEST(PowerChannel, EachFlaw) {
    PowerChannelSource c = usable();
    c.target_type = "guestfwd";
    EXPECT_EQ(powerChannelFlaw(c), PowerChannelFlaw::TargetNotVirtio);
    c = usable();
    c.type = "pty";
    EXPECT_EQ(powerChannelFlaw(c), PowerChannelFlaw::NotUnix);
    EXPECT_EQ(powerChannelFlaw(usable("")), PowerChannelFlaw::NoPath);
    EXPECT_EQ(powerChannelFlaw(usable("run/p.0")), PowerChannelFlaw::PathNotAbsolute);
    c = usable();
    c.source_mode = "connect";
    EXPECT_EQ(powerChannelFlaw(c), PowerChannelFlaw::ConnectMode);
    c.source_mode = "listen";
    EXPECT_EQ(powerChannelFlaw(c), PowerChannelFlaw::UnknownMode);
}

TEST(PowerChannel, PathUpToSunPathFits) {
    const std::string fits = "/" + std::string(kMaxSocketPathBytes - 1, 'p');
    EXPECT_EQ(powerChannelFlaw(usable(fits)), PowerChannelFlaw::None);
    const std::string too_long = fits + "p";
    EXPECT_EQ(powerChannelFlaw(usable(too_long)), PowerChannelFlaw::PathTooLong);
}

TEST(PowerChannel, FirstFlawIsTheVerdict) {
    // A tcp channel has no path either: its type is what is wrong.
    PowerChannelSource tcp = {.type = "tcp", .target_type = "virtio", .source_mode = "bind"};
    EXPECT_EQ(powerChannelFlaw(tcp), PowerChannelFlaw::NotUnix);
}

TEST(PowerChannel, InactiveDefinitionMayLeaveThePathToLibvirt) {
    EXPECT_EQ(powerChannelFlaw(usable(""), /*path_required=*/false), PowerChannelFlaw::None);
    PowerChannelSource c = usable("");
    c.source_mode = "connect";
    EXPECT_EQ(powerChannelFlaw(c, false), PowerChannelFlaw::ConnectMode);
    EXPECT_EQ(powerChannelFlaw(usable("relative"), false), PowerChannelFlaw::PathNotAbsolute);
}

}  // namespace
}  // namespace vmpower

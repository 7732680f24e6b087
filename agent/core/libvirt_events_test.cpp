// libvirt's events in the registry's words: the lifecycle mapping and
// TUNABLE's cputune strings (the registry never sees them).
#include "libvirt_events.h"

#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

namespace vmpower {
namespace {

TEST(LibvirtEvents, LifecycleMapping) {
    auto kind = [](int event) { return lifecycleEvent(event, 0); };
    EXPECT_TRUE(std::holds_alternative<DomainStopped>(*kind(VIR_DOMAIN_EVENT_STOPPED)));
    EXPECT_TRUE(std::holds_alternative<DomainStarted>(*kind(VIR_DOMAIN_EVENT_STARTED)));
    EXPECT_FALSE(kind(VIR_DOMAIN_EVENT_SHUTDOWN).has_value());  // STOPPED follows
    for (int e : {VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_DEFINED,
                  VIR_DOMAIN_EVENT_CRASHED, VIR_DOMAIN_EVENT_PMSUSPENDED}) {
        EXPECT_TRUE(std::holds_alternative<DomainChanged>(*kind(e))) << e;
    }
}

TEST(LibvirtEvents, TheHalvesOfALiveMigrationAreMarked) {
    auto migrated = [](const std::optional<DomainEvent>& e) {
        return std::visit(
            [](const auto& v) {
                if constexpr (requires { v.migrated; }) return v.migrated;
                return false;
            },
            *e);
    };
    using L = std::pair<int, int>;
    for (auto [event, detail] : {L{VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED},
                                 L{VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED},
                                 L{VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED},
                                 L{VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED}}) {
        EXPECT_TRUE(migrated(lifecycleEvent(event, detail))) << event << "/" << detail;
        EXPECT_FALSE(migrated(lifecycleEvent(event, 0))) << event << "/0";
    }
    EXPECT_TRUE(std::get<DomainStopped>(
                    *lifecycleEvent(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED))
                    .migrated);
    EXPECT_FALSE(std::get<DomainStopped>(
                     *lifecycleEvent(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED))
                     .migrated);
}

TEST(LibvirtEvents, TunablePinningBecomesTypedRepins) {
    std::vector<std::string> rejected;
    auto events = tunableEvents({{"cputune.vcpupin1", "2-3,5"},
                                 {"cputune.emulatorpin", "0"},
                                 {"cputune.cpu_shares", "1024"}},  // not ours
                                &rejected);
    ASSERT_EQ(events.size(), 2u);
    const auto& vcpu = std::get<VcpuRepinned>(events[0]);
    EXPECT_EQ(vcpu.vcpu, 1u);
    EXPECT_EQ(vcpu.pcpus.toString(), "2-3,5");
    EXPECT_EQ(std::get<EmulatorRepinned>(events[1]).pcpus.toString(), "0");
    EXPECT_TRUE(rejected.empty());
}

TEST(LibvirtEvents, AnIothreadRepinnedReadsTheDomainAgain) {
    std::vector<std::string> rejected;
    auto events = tunableEvents({{"cputune.iothreadpin1", "4"}}, &rejected);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<DomainChanged>(events[0]));
    EXPECT_TRUE(rejected.empty());
}

TEST(LibvirtEvents, UnreadablePinningIsRejectedNotGuessed) {
    std::vector<std::string> rejected;
    auto events = tunableEvents({{"cputune.vcpupin0", "garbage"},
                                 {"cputune.vcpupin", "1"},
                                 {"cputune.vcpupinX", "1"},
                                 {"cputune.vcpupin1234567", "1"},
                                 {"cputune.vcpupin2", ""},
                                 {"cputune.emulatorpin", "nope"},
                                 {"cputune.vcpupin3", "4"}},
                                &rejected);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<VcpuRepinned>(events[0]).vcpu, 3u);
    EXPECT_EQ(rejected.size(), 6u);
    EXPECT_EQ(rejected[0], "cputune.vcpupin0='garbage'");
    EXPECT_TRUE(tunableEvents({{"cputune.vcpupin0", "x"}}, nullptr).empty());
}

}  // namespace
}  // namespace vmpower

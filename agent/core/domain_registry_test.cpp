// DomainRegistry's state machine on typed events from a fake hypervisor:
// start, stop, re-pin, hot-plug, reconnect (a domain gone, a domain new) and
// lookups that fail. No libvirt connection; channels point at sockets nobody
// serves, so they stay Connecting.
#include "domain_registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "channel_rig.h"
#include "clock.h"
#include "fake_domain_source.h"
#include "test_support.h"

namespace vmpower {
namespace {

constexpr const char* kUuid1 = "11111111-1111-1111-1111-111111111111";
constexpr const char* kUuid2 = "22222222-2222-2222-2222-222222222222";
constexpr const char* kUuid3 = "33333333-3333-3333-3333-333333333333";

std::string channelXml(unsigned index) {
    return "<channel type='unix'><source mode='bind' path='/nonexistent/vmpower-test/ch." +
           std::to_string(index) + "'/><target type='virtio' name='virtio.serial.port.poweragent." +
           std::to_string(index) + "'/></channel>";
}

std::string domainXml(const std::string& name, const std::string& uuid, const std::string& devices,
                      const std::string& cputune = "") {
    return "<domain type='kvm'><name>" + name + "</name><uuid>" + uuid +
           "</uuid><memory>1048576</memory><vcpu>2</vcpu>" + cputune +
           "<os><type>hvm</type></os><devices><controller type='virtio-serial' index='0'/>" +
           devices + "</devices></domain>";
}

testing::FakeDomainSource::FakeDomain vm(const std::string& name, const std::string& uuid,
                                         const std::string& devices,
                                         std::vector<CpuSet> pins = {CpuSet{2}, CpuSet{3}}) {
    return {name, domainXml(name, uuid, devices), std::move(pins), true};
}

class DomainRegistryTest : public ::testing::Test {
  protected:
    DomainRegistryTest() {
        registry_ = std::make_unique<DomainRegistry>(rig_.env, source_, rig_.power);
    }

    const Domain* find(const char* uuid) const { return registry_->find(uuid); }
    // Loop turns for up to 5 s of real time (libvirt's timers are real), the
    // manual clock moving on so the retries it schedules fall due.
    template <typename Pred>
    bool turnUntil(Pred pred) {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        EventLoop::Timer tick([] {});
        while (!pred() && std::chrono::steady_clock::now() < until) {
            rig_.clock.advance(std::chrono::milliseconds(20));
            tick.arm(std::chrono::milliseconds(10));
            EventLoop::runOnce();
        }
        return pred();
    }
    // The registry's questions answered, as the worker's answers arrive.
    void onEvent(const char* uuid, const DomainEvent& e) {
        registry_->onEvent(uuid, e);
        source_.settle();
    }
    bool reconcile() {
        std::optional<bool> ok;
        registry_->setHooks({[&](bool r) { ok = r; }, {}});
        registry_->reconcile();
        source_.settle();
        registry_->setHooks({});
        return ok.value_or(false);
    }
    bool released(const char* uuid) const {
        return std::count(rig_.power.released.begin(), rig_.power.released.end(), uuid) > 0;
    }

    testing::ChannelRig<ManualClock> rig_{{}, 8};
    testing::FakeDomainSource source_;
    std::unique_ptr<DomainRegistry> registry_;
};

TEST_F(DomainRegistryTest, StartedDomainIsReadWithItsChannelsAndPinning) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0) + channelXml(1)));
    onEvent(kUuid1, DomainStarted{});
    const Domain* d = find(kUuid1);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->identity.name, "vm1");
    EXPECT_EQ(d->channels.size(), 2u);
    EXPECT_EQ(d->channels.at(0)->state(), Channel::State::Connecting);  // nobody serves it
    EXPECT_EQ(d->vcpus.pcpus(0).toString(), "2");
    EXPECT_EQ(d->vcpus.pcpus(1).toString(), "3");
}

TEST_F(DomainRegistryTest, WithoutTheDriversPinningTheXmlDecides) {
    auto d = vm("vm1", kUuid1, "");
    d.xml = domainXml("vm1", kUuid1, "",
                      "<cputune><vcpupin vcpu='0' cpuset='5'/><emulatorpin cpuset='7'/></cputune>");
    d.vcpu_pins.reset();
    source_.add(kUuid1, d);
    onEvent(kUuid1, DomainStarted{});
    ASSERT_NE(find(kUuid1), nullptr);
    EXPECT_EQ(find(kUuid1)->vcpus.pcpus(0).toString(), "5");
    EXPECT_EQ(find(kUuid1)->vcpus.pcpus(1).toString(), "0-7");  // the host's CPUs
    EXPECT_EQ(find(kUuid1)->emulator_pcpus.toString(), "7");
}

TEST_F(DomainRegistryTest, StoppedDomainIsRemovedAndItsRequestsReleased) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0)));
    source_.add(kUuid2, vm("vm2", kUuid2, "", {CpuSet{2}}));
    ASSERT_TRUE(reconcile());
    EXPECT_TRUE(registry_->sharedWithOtherDomain(kUuid2, CpuSet{2}));
    onEvent(kUuid1, DomainStopped{});
    EXPECT_EQ(find(kUuid1), nullptr);
    EXPECT_TRUE(released(kUuid1));
    EXPECT_FALSE(registry_->sharedWithOtherDomain(kUuid2, CpuSet{2}));  // its pCPUs are free
    EXPECT_NE(find(kUuid2), nullptr);
    onEvent(kUuid1, DomainStopped{});  // twice is harmless
}

TEST_F(DomainRegistryTest, TheSourceOfAMigrationKeepsEverythingUntilStoppedMigrated) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0) + channelXml(1)));
    ASSERT_TRUE(reconcile());
    const Channel* ch0 = find(kUuid1)->channels.at(0).get();
    // SUSPENDED_MIGRATED (the final copy), then the migration fails and the
    // domain RESUMES here: it must find its channels and holds as they were.
    onEvent(kUuid1, DomainChanged{true});
    onEvent(kUuid1, DomainChanged{true});
    ASSERT_NE(find(kUuid1), nullptr);
    EXPECT_EQ(find(kUuid1)->channels.at(0).get(), ch0);
    EXPECT_FALSE(released(kUuid1));
    // Another attempt succeeds: STOPPED_MIGRATED releases as any stop.
    onEvent(kUuid1, DomainChanged{true});
    onEvent(kUuid1, DomainStopped{true});
    EXPECT_EQ(find(kUuid1), nullptr);
    EXPECT_TRUE(released(kUuid1));
}

TEST_F(DomainRegistryTest, TheDestinationConnectsOnStartedMigratedWithItsOwnPinning) {
    // The incoming QEMU exists, paused, pinned by the destination's XML.
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0), {CpuSet{6}, CpuSet{7}}));
    onEvent(kUuid1, DomainStarted{true});
    const Domain* d = find(kUuid1);
    ASSERT_NE(d, nullptr);
    ASSERT_EQ(d->channels.size(), 1u);
    EXPECT_EQ(d->channels.at(0)->state(), Channel::State::Connecting) << "opened at once";
    EXPECT_EQ(d->vcpus.pcpus(0).toString(), "6");
    onEvent(kUuid1, DomainChanged{true});  // RESUMED_MIGRATED: nothing to redo
    EXPECT_EQ(find(kUuid1)->channels.size(), 1u);
}

TEST_F(DomainRegistryTest, ChangedDomainThatIsNoLongerActiveIsRemoved) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0)));
    onEvent(kUuid1, DomainStarted{});
    source_.domains[kUuid1].active = false;
    onEvent(kUuid1, DomainChanged{});
    EXPECT_EQ(find(kUuid1), nullptr);
    EXPECT_TRUE(released(kUuid1));
}

TEST_F(DomainRegistryTest, RepinnedVcpuMovesItsSetAndTheSharingCount) {
    source_.add(kUuid1, vm("vm1", kUuid1, "", {CpuSet{2}, CpuSet{3}}));
    source_.add(kUuid2, vm("vm2", kUuid2, "", {CpuSet{4}}));
    ASSERT_TRUE(reconcile());
    EXPECT_FALSE(registry_->sharedWithOtherDomain(kUuid2, CpuSet{4}));
    onEvent(kUuid1, VcpuRepinned{1, CpuSet{4, 5}});
    const Domain* d = find(kUuid1);
    EXPECT_EQ(d->vcpus.pcpus(1).toString(), "4-5");
    EXPECT_EQ(d->vcpus.pcpus(0).toString(), "2");
    EXPECT_TRUE(registry_->sharedWithOtherDomain(kUuid2, CpuSet{4}));
    EXPECT_FALSE(registry_->sharedWithOtherDomain(kUuid2, CpuSet{3}));
    EXPECT_TRUE(released(kUuid1));  // its holds outside the new set
    EXPECT_EQ(source_.calls, 1);    // a re-pin needs no lookup
}

TEST_F(DomainRegistryTest, EmulatorRepinIsTrackedAndUnknownDomainsIgnored) {
    source_.add(kUuid1, vm("vm1", kUuid1, ""));
    onEvent(kUuid1, DomainStarted{});
    onEvent(kUuid1, EmulatorRepinned{CpuSet{0, 1}});
    EXPECT_EQ(find(kUuid1)->emulator_pcpus.toString(), "0-1");
    EXPECT_EQ(find(kUuid1)->vcpus.pcpus(0).toString(), "2");  // untouched
    onEvent(kUuid2, EmulatorRepinned{CpuSet{0}});
    onEvent(kUuid2, VcpuRepinned{0, CpuSet{0}});
    EXPECT_EQ(find(kUuid2), nullptr);
}

TEST_F(DomainRegistryTest, HotPlugAddsAndRemovesChannelsAndKeepsTheOthers) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0)));
    onEvent(kUuid1, DomainStarted{});
    const Channel* first = find(kUuid1)->channels.at(0).get();

    source_.domains[kUuid1].xml = domainXml("vm1", kUuid1, channelXml(0) + channelXml(3));
    onEvent(kUuid1, DeviceAdded{"channel1"});
    ASSERT_EQ(find(kUuid1)->channels.size(), 2u);
    EXPECT_EQ(find(kUuid1)->channels.at(0).get(), first);  // the same channel, not reopened
    EXPECT_TRUE(find(kUuid1)->channels.contains(3));

    source_.domains[kUuid1].xml = domainXml("vm1", kUuid1, channelXml(3));
    onEvent(kUuid1, DeviceRemoved{"channel0"});
    ASSERT_EQ(find(kUuid1)->channels.size(), 1u);
    EXPECT_TRUE(find(kUuid1)->channels.contains(3));
}

TEST_F(DomainRegistryTest, ReconnectRemovesADomainGoneAndAddsANewOne) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0)));
    source_.add(kUuid2, vm("vm2", kUuid2, channelXml(1)));
    ASSERT_TRUE(reconcile());
    const Channel* kept = find(kUuid2)->channels.at(1).get();

    // libvirtd was away; meanwhile vm1 stopped and vm3 started.
    source_.domains.erase(kUuid1);
    source_.add(kUuid3, vm("vm3", kUuid3, channelXml(2)));
    ASSERT_TRUE(reconcile());
    EXPECT_EQ(find(kUuid1), nullptr);
    EXPECT_TRUE(released(kUuid1));
    ASSERT_NE(find(kUuid2), nullptr);
    EXPECT_EQ(find(kUuid2)->channels.at(1).get(), kept);  // survives the reconnect
    ASSERT_NE(find(kUuid3), nullptr);
    EXPECT_EQ(find(kUuid3)->channels.size(), 1u);
    EXPECT_EQ(registry_->domains().size(), 2u);
}

TEST_F(DomainRegistryTest, AFailingLookupKeepsWhatWeHave) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0)));
    ASSERT_TRUE(reconcile());
    source_.fail = true;
    onEvent(kUuid1, DomainChanged{});  // never throws
    onEvent(kUuid1, DeviceAdded{"x"});
    EXPECT_NE(find(kUuid1), nullptr);
    EXPECT_FALSE(reconcile());  // the close callback retries later
    EXPECT_NE(find(kUuid1), nullptr);
    EXPECT_EQ(find(kUuid1)->channels.size(), 1u);
    EXPECT_FALSE(released(kUuid1));
}

TEST_F(DomainRegistryTest, ADomainThatCannotBeReadIsKeptAndReadAgainLater) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0)));
    source_.add(kUuid2, vm("vm2", kUuid2, channelXml(0)));
    ASSERT_TRUE(reconcile());
    const Channel* before = find(kUuid1)->channels.at(0).get();
    // libvirtd dies while the XML is read: only "no such domain" means gone.
    source_.domains[kUuid1].fault = "End of file while reading data: Input/output error";
    ASSERT_TRUE(reconcile());
    onEvent(kUuid1, DomainChanged{});
    ASSERT_NE(find(kUuid1), nullptr) << "an error reading a domain is not its end";
    EXPECT_EQ(find(kUuid1)->channels.at(0).get(), before) << "its channel was not replaced";
    EXPECT_FALSE(released(kUuid1)) << "its frequency holds stay";
    // It is asked again on its own (no event, no reconnect needed).
    source_.domains[kUuid1].fault.clear();
    source_.domains[kUuid1].vcpu_pins = std::vector<CpuSet>{CpuSet{5}, CpuSet{6}};
    const int calls = source_.calls;
    turnUntil([&] { return source_.calls > calls; });
    source_.settle();
    EXPECT_GT(source_.calls, calls) << "a retry read the domain again";
    EXPECT_EQ(find(kUuid1)->vcpus.pcpus(0).toString(), "5");
    EXPECT_EQ(find(kUuid1)->channels.at(0).get(), before);
    EXPECT_EQ(rig_.env.retries.pending(), 2u)
        << "no refresh left pending, only the channels' retries";
}

TEST_F(DomainRegistryTest, ALookupThatThrowsIsRetriedToo) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0)));
    ASSERT_TRUE(reconcile());
    source_.fail = true;
    onEvent(kUuid1, DomainChanged{});
    source_.fail = false;
    source_.domains[kUuid1].active = false;  // it stopped meanwhile
    turnUntil([&] { return find(kUuid1) == nullptr; });
    EXPECT_EQ(find(kUuid1), nullptr) << "the retry learnt that it is gone";
    EXPECT_TRUE(released(kUuid1));
}

TEST_F(DomainRegistryTest, UnusableXmlLeavesOthersAlone) {
    source_.add(kUuid1, {"vm1", "<domain", std::nullopt, true});
    source_.add(kUuid2, vm("vm2", kUuid2, channelXml(0)));
    ASSERT_TRUE(reconcile());
    ASSERT_NE(find(kUuid1), nullptr);
    EXPECT_TRUE(find(kUuid1)->channels.empty());
    EXPECT_NE(find(kUuid2), nullptr);
    EXPECT_EQ(find(kUuid2)->channels.size(), 1u);
}

TEST_F(DomainRegistryTest, AnUnparsableRunningDomainIsAStakeholderOfEveryCpuUntilRead) {
    // Issue 25: it may run anywhere, so nothing may be slowed under it.
    source_.add(kUuid1, {"vm1", "<domain", std::nullopt, true});
    onEvent(kUuid1, DomainStarted{});
    const Domain* d = find(kUuid1);
    ASSERT_NE(d, nullptr);
    EXPECT_TRUE(d->xml_unreadable);
    EXPECT_TRUE(d->channels.empty());
    ASSERT_EQ(d->problems.size(), 1u);
    EXPECT_NE(d->problems[0].find("a stakeholder of every host CPU"), std::string::npos);
    EXPECT_EQ(rig_.power.footprints.at(kUuid1).toString(), "0-7");
    // Readable again: its real footprint and its channels.
    source_.domains[kUuid1] = vm("vm1", kUuid1, channelXml(0), {CpuSet{2}, CpuSet{3}});
    source_.domains[kUuid1].xml =
        domainXml("vm1", kUuid1, channelXml(0), "<cputune><emulatorpin cpuset='1'/></cputune>");
    onEvent(kUuid1, DomainChanged{});
    d = find(kUuid1);
    ASSERT_NE(d, nullptr);
    EXPECT_FALSE(d->xml_unreadable);
    EXPECT_EQ(d->channels.size(), 1u);
    EXPECT_EQ(rig_.power.footprints.at(kUuid1).toString(), "1-3");
    // Stopped: forgotten.
    source_.domains[kUuid1].active = false;
    onEvent(kUuid1, DomainStopped{});
    EXPECT_EQ(find(kUuid1), nullptr);
    EXPECT_TRUE(released(kUuid1));
}

TEST_F(DomainRegistryTest, IothreadsAreInTheFootprint) {
    // vCPUs on 2 and 3, emulator on 1, IOThread 1 pinned to 5, IOThread 2
    // unpinned under <vcpu cpuset='4-6'>: the footprint is 1-6.
    auto d = vm("vm1", kUuid1, "");
    d.xml = "<domain type='kvm'><name>vm1</name><uuid>" + std::string(kUuid1) +
            "</uuid><memory>1048576</memory><vcpu cpuset='4-6'>2</vcpu><iothreads>2</iothreads>"
            "<cputune><emulatorpin cpuset='1'/><iothreadpin iothread='1' cpuset='5'/></cputune>"
            "<os><type>hvm</type></os><devices/></domain>";
    source_.add(kUuid1, d);
    onEvent(kUuid1, DomainStarted{});
    ASSERT_NE(find(kUuid1), nullptr);
    EXPECT_EQ(find(kUuid1)->iothread_pcpus.toString(), "4-6");
    EXPECT_EQ(rig_.power.footprints.at(kUuid1).toString(), "1-6");
    // The emulator re-pinned: the IOThreads stay in the footprint.
    onEvent(kUuid1, EmulatorRepinned{CpuSet{0}});
    EXPECT_EQ(rig_.power.footprints.at(kUuid1).toString(), "0,2-6");
}

TEST_F(DomainRegistryTest, OperatorSwitchesAChannel) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0)));
    onEvent(kUuid1, DomainStarted{});
    EXPECT_TRUE(registry_->setChannelEnabled(kUuid1, 0, false));
    EXPECT_EQ(find(kUuid1)->channels.at(0)->state(), Channel::State::Disabled);
    EXPECT_FALSE(registry_->setChannelEnabled(kUuid1, 9, false));
    EXPECT_FALSE(registry_->setChannelEnabled(kUuid2, 0, false));
    onEvent(kUuid1, DeviceAdded{"channel0"});  // a re-read does not re-enable it
    EXPECT_EQ(find(kUuid1)->channels.at(0)->state(), Channel::State::Disabled);
}

// The hypervisor answers later (off the loop): an answer read before an
// event must not undo what the event did.
TEST_F(DomainRegistryTest, ALookupAnsweredAfterTheStopDoesNotBringTheDomainBack) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0)));
    registry_->onEvent(kUuid1, DomainStarted{});  // its lookup reads "running"
    EXPECT_EQ(source_.unanswered(), 1u);
    EXPECT_EQ(find(kUuid1), nullptr) << "nothing before the answer";
    source_.domains[kUuid1].active = false;
    registry_->onEvent(kUuid1, DomainStopped{});  // ...and it stops before the answer comes
    source_.settle();
    EXPECT_EQ(find(kUuid1), nullptr) << "the stale answer was dropped";
}

TEST_F(DomainRegistryTest, AListingAnsweredAfterAnEventLeavesThatDomainToTheEvent) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0)));
    source_.add(kUuid2, vm("vm2", kUuid2, "", {CpuSet{4}}));
    ASSERT_TRUE(reconcile());
    // A reconnect lists the domains; vm1 stops and vm2 is re-pinned before the
    // listing's answer is handled.
    registry_->reconcile();
    source_.domains[kUuid1].active = false;
    registry_->onEvent(kUuid1, DomainStopped{});
    registry_->onEvent(kUuid2, VcpuRepinned{0, CpuSet{6}});
    source_.settle();
    EXPECT_EQ(find(kUuid1), nullptr) << "the listing saw it running, the stop decides";
    ASSERT_NE(find(kUuid2), nullptr);
    EXPECT_EQ(find(kUuid2)->vcpus.pcpus(0).toString(), "6") << "the re-pin is not undone";
}

TEST_F(DomainRegistryTest, ARepinWhileALookupIsInFlightAsksAgain) {
    source_.add(kUuid1, vm("vm1", kUuid1, channelXml(0)));
    ASSERT_TRUE(reconcile());
    registry_->onEvent(kUuid1, DeviceAdded{"net0"});  // a lookup in flight, read with vCPU 0 on 2
    // libvirt re-pins (its state changes), then tells: the first answer
    // predates the change, the second, asked on the event, does not.
    source_.domains[kUuid1].vcpu_pins = std::vector<CpuSet>{CpuSet{5}, CpuSet{3}};
    registry_->onEvent(kUuid1, VcpuRepinned{0, CpuSet{5}});
    source_.settle();
    EXPECT_EQ(find(kUuid1)->vcpus.pcpus(0).toString(), "5");
}

}  // namespace
}  // namespace vmpower

// The VM's power intent at the registry: kept from what the PowerControl
// holds after each ACK, written to the domain's live metadata at most once
// per kIntentWriteInterval (always the latest, nothing when unchanged, put
// off while a job runs, retried after failures), applied again when the
// domain arrives by live migration and removed when it starts normally.
// FakeDomainSource plays libvirt, FakePowerControl the Arbiter; the loop and
// the steady clock are real (the write interval is a bound checked on the
// recorded call times, never a timing assertion on this machine's speed).
#include "power_intent_keeper.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>

#include "channel_rig.h"
#include "clock.h"
#include "domain_registry.h"
#include "fake_domain_source.h"
#include "power_intent.h"
#include "temp_dir.h"
#include "test_support.h"

namespace vmpower {
namespace {

using namespace std::chrono_literals;
using Kind = LevelPosition::Kind;
constexpr const char* kUuid = "11111111-1111-1111-1111-111111111111";
const std::vector<std::uint32_t> kSteps{1000000, 1500000, 2000000, 2500000, 3000000};

std::string domainXml(const std::string& metadata = "", unsigned vcpus = 2) {
    return "<domain type='kvm' id='4'><name>vm1</name><uuid>" + std::string(kUuid) +
           "</uuid><metadata>" + metadata + "</metadata><memory>1048576</memory><vcpu>" +
           std::to_string(vcpus) + "</vcpu><os><type>hvm</type></os><devices/></domain>";
}

std::string storedIntent(const std::string& body) {
    return "<vmpower-intent:intent xmlns:vmpower-intent=\"urn:vmpower:intent:1\">" + body +
           "</vmpower-intent:intent>";
}

class PowerIntentAtTheRegistry : public ::testing::Test {
  protected:
    PowerIntentAtTheRegistry() {
        // As the Agent wires them: the keeper hears the registry and the handler.
        keeper_ = std::make_unique<PowerIntentKeeper>(source_, rig_.power, rig_.env.retries);
        registry_ = std::make_unique<DomainRegistry>(rig_.env, source_, rig_.power, keeper_.get());
        rig_.hold_observer.to = keeper_.get();
        rig_.power.steps[2] = kSteps;
        rig_.power.steps[3] = kSteps;
    }
    void start(const std::string& metadata, bool migrated, unsigned vcpus = 2) {
        source_.add(kUuid, {"vm1", domainXml(metadata, vcpus), {{CpuSet{2}, CpuSet{3}}}, true});
        registry_->onEvent(kUuid, DomainStarted{migrated});
        source_.settle();
        ASSERT_NE(registry_->find(kUuid), nullptr);
    }
    // vCPU `vcpu` now holds `khz` (as the Arbiter would after an ACK).
    void hold(unsigned vcpu, std::optional<std::uint32_t> khz, std::optional<bool> turbo = {}) {
        rig_.power.held[{kUuid, vcpu, 2 + vcpu}] = HeldRequest{khz, turbo};
        keeper_->onApplied(registry_->find(kUuid)->identity, Requester::vcpu(kUuid, vcpu),
                           CpuSet{2 + vcpu}, FrequencyLimits{});
    }
    template <typename Pred>
    bool turnUntil(Pred pred, std::chrono::milliseconds timeout = 5s) {
        auto until = std::chrono::steady_clock::now() + timeout;
        EventLoop::Timer tick([] {});
        while (!pred() && std::chrono::steady_clock::now() < until) {
            tick.arm(1ms);
            EventLoop::runOnce();
        }
        return pred();
    }
    void turnFor(std::chrono::milliseconds d) {
        auto until = std::chrono::steady_clock::now() + d;
        turnUntil([&] { return std::chrono::steady_clock::now() >= until; }, d + 1s);
    }
    const std::string& lastWritten() {
        static const std::string kNone = "(nothing written)";
        return source_.metadata_writes.empty() ? kNone : source_.metadata_writes.back().element;
    }
    const DomainIntentRecord& record() { return *keeper_->find(kUuid); }

    testing::ChannelRig<SteadyClock> rig_{{testing::allowAll()}, 8};
    testing::FakeDomainSource source_;
    std::unique_ptr<PowerIntentKeeper> keeper_;  // outlives the registry, which reports to it
    std::unique_ptr<DomainRegistry> registry_;
};

TEST_F(PowerIntentAtTheRegistry, AStormOfRequestsIsAtMostOneWritePerIntervalAndEndsOnTheLatest) {
    start("", false);
    ASSERT_EQ(source_.metadata_calls, 0) << "nothing to write for a fresh domain";
    const auto begin = std::chrono::steady_clock::now();
    unsigned requests = 0;
    // The guest steps up and down as fast as the loop lets it for ~1.2 s.
    while (std::chrono::steady_clock::now() - begin < 1200ms) {
        for (int i = 0; i < 50; ++i, ++requests) hold(0, kSteps[1 + requests % 3]);
        EventLoop::Timer tick([] {});
        tick.arm(0ms);
        EventLoop::runOnce();
    }
    hold(0, 3000000, true);  // the last word: max, turbo on
    const std::string latest =
        "<intent>\n  <vcpu id=\"0\" level=\"max\" khz=\"3000000\" "
        "turbo=\"on\"/>\n</intent>\n";
    ASSERT_TRUE(turnUntil([&] { return lastWritten() == latest; })) << lastWritten();
    const auto elapsed = std::chrono::steady_clock::now() - begin;
    ASSERT_GT(requests, 1000u);
    const auto& writes = source_.metadata_writes;
    EXPECT_LE(writes.size(), static_cast<std::size_t>(elapsed / kIntentWriteInterval) + 1)
        << requests << " requests";
    for (std::size_t i = 1; i < writes.size(); ++i) {
        EXPECT_GE(writes[i].at - writes[i - 1].at, kIntentWriteInterval) << "write " << i;
    }
    EXPECT_EQ(source_.metadata_calls, static_cast<int>(writes.size()));
    // Libvirt holds it: the same level again costs no call, not even a timer.
    const int calls = source_.metadata_calls;
    for (int i = 0; i < 1000; ++i) hold(0, 3000000, true);
    EXPECT_EQ(rig_.retries.pending(), 0u);
    turnFor(2 * kIntentWriteInterval);
    EXPECT_EQ(source_.metadata_calls, calls);
    // A change and its undo within one interval: libvirt already holds that.
    hold(0, 2000000, true);
    hold(0, 3000000, true);
    turnFor(2 * kIntentWriteInterval);
    EXPECT_EQ(source_.metadata_calls, calls);
    EXPECT_EQ(record().vcpus.at(0).origin, VcpuIntentRecord::Origin::Guest);
}

TEST_F(PowerIntentAtTheRegistry, ManyDomainsChangingAtOnceQueueTheirWritesSpacedApart) {
    std::vector<std::string> uuids;
    for (int i = 0; i < 6; ++i) {
        std::string uuid = "11111111-1111-1111-1111-00000000000" + std::to_string(i);
        std::string xml = domainXml();
        xml.replace(xml.find(kUuid), std::string(kUuid).size(), uuid);
        source_.add(uuid, {"vm" + std::to_string(i), xml, {{CpuSet{2}, CpuSet{3}}}, true});
        registry_->onEvent(uuid, DomainStarted{});
        source_.settle();
        rig_.power.held[{uuid, 0, 2}] = HeldRequest{3000000, {}};
        keeper_->onApplied(registry_->find(uuid)->identity, Requester::vcpu(uuid, 0), CpuSet{2},
                           {});
        uuids.push_back(uuid);
    }
    ASSERT_TRUE(turnUntil([&] { return source_.metadata_writes.size() == uuids.size(); }));
    const auto& writes = source_.metadata_writes;
    for (std::size_t i = 1; i < writes.size(); ++i) {
        EXPECT_GE(writes[i].at - writes[i - 1].at, kIntentWriteSpacing) << "write " << i;
        EXPECT_NE(writes[i].uuid, writes[i - 1].uuid);
    }
}

TEST_F(PowerIntentAtTheRegistry, TheIntentIsAPositionInTheRangeTheVmMayUse) {
    start("", false);
    hold(0, 2500000);              // one below the top of five
    hold(1, std::nullopt, false);  // a turbo wish only
    ASSERT_TRUE(turnUntil([&] { return source_.metadata_writes.size() == 1; }));
    EXPECT_EQ(lastWritten(),
              "<intent>\n"
              "  <vcpu id=\"0\" level=\"step\" from-top=\"1\" of=\"5\" khz=\"2500000\"/>\n"
              "  <vcpu id=\"1\" turbo=\"off\"/>\n"
              "</intent>\n");
    // Released (re-pinned away from its holds): the vCPU leaves the intent.
    rig_.power.held.clear();
    registry_->onEvent(kUuid, VcpuRepinned{0, CpuSet{4}});
    registry_->onEvent(kUuid, VcpuRepinned{1, CpuSet{5}});
    ASSERT_TRUE(turnUntil([&] { return lastWritten().empty(); })) << lastWritten();
    EXPECT_TRUE(record().vcpus.empty());
}

TEST_F(PowerIntentAtTheRegistry, ABusyDomainWaitsForItsJobsEndAndAFailingLibvirtIsAskedAgain) {
    start("", false);
    source_.metadata_busy = true;  // a migration job runs
    hold(0, 3000000);
    ASSERT_TRUE(turnUntil([&] { return keeper_->writer().stats().busy >= 1; }));
    EXPECT_TRUE(source_.metadata_writes.empty());
    const int asked = source_.metadata_calls;
    turnFor(1s);
    EXPECT_EQ(source_.metadata_calls, asked) << "no write is tried again while the job runs";
    hold(0, 2000000);  // a change meanwhile waits too
    turnFor(300ms);
    EXPECT_EQ(source_.metadata_calls, asked);
    source_.metadata_busy = false;
    source_.metadata_fault = true;  // the job ends (its event); then libvirt fails
    keeper_->jobEnded(kUuid);
    ASSERT_TRUE(turnUntil([&] { return source_.metadata_calls >= asked + 3; }));
    EXPECT_TRUE(source_.metadata_writes.empty());
    source_.metadata_fault = false;
    ASSERT_TRUE(turnUntil([&] { return !source_.metadata_writes.empty(); }, 15s));
    EXPECT_NE(lastWritten().find("khz=\"2000000\""), std::string::npos) << "the latest";
    // The domain stops: nothing more is written for it.
    hold(0, 1000000);
    registry_->onEvent(kUuid, DomainStopped{});
    const int calls = source_.metadata_calls;
    turnFor(2 * kIntentWriteInterval);
    EXPECT_EQ(source_.metadata_calls, calls);
    EXPECT_EQ(keeper_->find(kUuid), nullptr);
}

// An aborted migration sends the source no event: the writer's own recheck
// finds the job gone. When the level is back to what libvirt holds by then,
// nothing is written, and the next change must be (issue 23's two-host test
// found the writer waiting for an end event that never came).
TEST_F(PowerIntentAtTheRegistry, AJobEndingWithoutAnEventLeavesTheWriterWriting) {
    start("", false);
    hold(0, 3000000);
    ASSERT_TRUE(turnUntil([&] { return source_.metadata_writes.size() == 1; }));
    source_.metadata_busy = true;  // a migration job runs
    hold(0, 2000000);
    ASSERT_TRUE(turnUntil([&] { return keeper_->writer().stats().busy == 1; }));
    hold(0, 3000000);               // back to what libvirt holds
    source_.metadata_busy = false;  // the job is aborted: no event
    const int calls = source_.metadata_calls;
    turnFor(kIntentJobRecheck + 300ms);  // the recheck: nothing to write
    EXPECT_EQ(source_.metadata_calls, calls);
    hold(0, 1000000);
    ASSERT_TRUE(turnUntil([&] { return source_.metadata_writes.size() == 2; }))
        << "the change after the job is written";
    EXPECT_NE(lastWritten().find("khz=\"1000000\""), std::string::npos) << lastWritten();
}

TEST_F(PowerIntentAtTheRegistry, ArrivingByMigrationTheIntentIsAppliedHereUnderThisHostsRule) {
    start(storedIntent("<vmpower-intent:vcpu id=\"0\" level=\"max\" khz=\"2600000\" turbo=\"on\"/>"
                       "<vmpower-intent:vcpu id=\"1\" level=\"step\" from-top=\"2\" of=\"10\"/>"
                       "<vmpower-intent:vcpu id=\"5\" level=\"min\"/>"),
          true);
    // vCPU 0: max then turbo; vCPU 1: the step 2/9 down maps to 1 of 4 here
    // (rounded) = 2.5 GHz, asked as max under that ceiling; vCPU 5 does not
    // exist here.
    const auto& calls = rig_.power.calls;
    ASSERT_EQ(calls.size(), 3u);
    EXPECT_EQ(calls[0].who, Requester::vcpu(kUuid, 0));
    EXPECT_EQ(calls[0].action, PowerAction::Max);
    EXPECT_EQ(calls[0].pcpus, CpuSet{2});
    EXPECT_EQ(calls[1].action, PowerAction::EnableTurbo);
    EXPECT_EQ(calls[2].who, Requester::vcpu(kUuid, 1));
    EXPECT_EQ(calls[2].action, PowerAction::Max);
    EXPECT_EQ(calls[2].limits.ceiling_khz, 2500000u);
    EXPECT_EQ(calls[2].pcpus, CpuSet{3});
    const DomainIntentRecord& r = record();
    ASSERT_EQ(r.vcpus.size(), 2u);
    EXPECT_EQ(r.vcpus.at(0).origin, VcpuIntentRecord::Origin::Migration);
    EXPECT_TRUE(r.vcpus.at(0).applied);
    EXPECT_EQ(r.vcpus.at(1).intent.level, (LevelPosition{Kind::Step, 2, 10}));
    // libvirt holds it already: no write.
    turnFor(2 * kIntentWriteInterval);
    EXPECT_EQ(source_.metadata_calls, 0);
}

TEST_F(PowerIntentAtTheRegistry, ARefusalHereIsKeptAndShownNotRetried) {
    rig_.power.apply_result = false;
    rig_.power.refusal = "policy2 is shared with vm2, which asked for no frequency";
    start(storedIntent("<vmpower-intent:vcpu id=\"0\" level=\"min\"/>"), true);
    ASSERT_EQ(rig_.power.calls.size(), 1u);
    const VcpuIntentRecord& v = record().vcpus.at(0);
    EXPECT_FALSE(v.applied);
    EXPECT_EQ(v.refusal,
              "cpufreq refused: policy2 is shared with vm2, which asked for no frequency");
    EXPECT_EQ(rig_.power.lastRefusal(kUuid), rig_.power.refusal);
}

TEST_F(PowerIntentAtTheRegistry, ANormalStartIgnoresAStaleIntentAndRemovesIt) {
    start(storedIntent("<vmpower-intent:vcpu id=\"0\" level=\"max\"/>"), false);
    EXPECT_TRUE(rig_.power.calls.empty());
    EXPECT_TRUE(record().vcpus.empty());
    ASSERT_TRUE(turnUntil([&] { return !source_.metadata_writes.empty(); }));
    EXPECT_EQ(lastWritten(), "") << "removed";
    EXPECT_EQ(source_.metadata_calls, 1);
}

TEST_F(PowerIntentAtTheRegistry, ALookupThatFailsAtStartRestoresOnceTheDomainIsRead) {
    source_.add(kUuid, {"vm1",
                        domainXml(storedIntent("<vmpower-intent:vcpu id=\"1\" level=\"max\"/>")),
                        {{CpuSet{2}, CpuSet{3}}},
                        true,
                        "libvirtd went away (fake)"});
    registry_->onEvent(kUuid, DomainStarted{true});
    EXPECT_TRUE(rig_.power.calls.empty());
    source_.domains[kUuid].fault.clear();
    ASSERT_TRUE(turnUntil([&] { return !rig_.power.calls.empty(); }));
    EXPECT_EQ(rig_.power.calls[0].who, Requester::vcpu(kUuid, 1));
}

// An agent restart: the keeper and registry built again on the same state
// directory; the domain is found running at the first reconcile.
class AfterAnAgentRestart : public PowerIntentAtTheRegistry {
  protected:
    // What the last run kept for vm1, as of domain id `id` (its XML says 4).
    void kept(int id, const std::string& metadata = "") {
        PowerIntent intent;
        intent.vcpus = {{0, LevelPosition{Kind::Max, 0, 0}, 3000000, std::nullopt}};
        std::ofstream(dir_.path() / "intents.json")
            << intentFileText({"boot", {{kUuid, {"vm1", {id, 0}, intent, {}}}}});
        metadata_ = metadata;
    }
    void restart() {
        registry_.reset();
        keeper_ = std::make_unique<PowerIntentKeeper>(source_, rig_.power, rig_.env.retries);
        keeper_->keepInStateDir(dir_.path(), "boot");
        registry_ = std::make_unique<DomainRegistry>(rig_.env, source_, rig_.power, keeper_.get());
        rig_.hold_observer.to = keeper_.get();
        source_.add(kUuid, {"vm1", domainXml(metadata_), {{CpuSet{2}, CpuSet{3}}}, true});
        registry_->reconcile();
        source_.settle();
        ASSERT_NE(registry_->find(kUuid), nullptr);
        keeper_->settled();
    }
    test::TempDir dir_;
    std::string metadata_;
};

TEST_F(AfterAnAgentRestart, TheSameRunGetsItsKeptIntentBack) {
    kept(4);
    restart();
    ASSERT_EQ(rig_.power.calls.size(), 1u);
    EXPECT_EQ(rig_.power.calls[0].who, Requester::vcpu(kUuid, 0));
    EXPECT_EQ(rig_.power.calls[0].action, PowerAction::Max);
    EXPECT_EQ(record().vcpus.at(0).origin, VcpuIntentRecord::Origin::AgentRestart);
}

TEST_F(AfterAnAgentRestart, ADomainRestartedMeanwhileGetsNothing) {
    kept(3, storedIntent("<vmpower-intent:vcpu id=\"0\" level=\"max\"/>"));
    restart();
    EXPECT_TRUE(rig_.power.calls.empty());
    EXPECT_TRUE(record().vcpus.empty());
    // The metadata's intent is the earlier run's: removed.
    ASSERT_TRUE(turnUntil([&] { return !source_.metadata_writes.empty(); }));
    EXPECT_EQ(lastWritten(), "");
    // And the store forgets it.
    ASSERT_TRUE(turnUntil([&] { return keeper_->stateFile()->writes() > 0; }));
    std::vector<std::string> problems;
    std::ifstream in(dir_.path() / "intents.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(parseIntentFile(text, problems)->domains.empty()) << text;
}

TEST_F(AfterAnAgentRestart, AFreshStoreRestoresNothingNotEvenFromTheMetadata) {
    // As a domain found running by a newly installed agent (or one that
    // migrated in while it was down): libvirt keeps what it holds.
    metadata_ = storedIntent("<vmpower-intent:vcpu id=\"1\" level=\"min\"/>");
    restart();
    EXPECT_TRUE(rig_.power.calls.empty());
    EXPECT_TRUE(record().vcpus.empty());
}

TEST_F(AfterAnAgentRestart, WithTheStoreLostTheLiveMetadataSaysWhatWasHeld) {
    std::ofstream(dir_.path() / "intents.json") << "{ corrupt";  // set aside at start
    metadata_ = storedIntent("<vmpower-intent:vcpu id=\"1\" level=\"min\"/>");
    restart();
    ASSERT_EQ(rig_.power.calls.size(), 1u);
    EXPECT_EQ(rig_.power.calls[0].who, Requester::vcpu(kUuid, 1));
    EXPECT_EQ(rig_.power.calls[0].action, PowerAction::Min);
    EXPECT_EQ(record().vcpus.at(1).origin, VcpuIntentRecord::Origin::AgentRestart);
}

}  // namespace
}  // namespace vmpower

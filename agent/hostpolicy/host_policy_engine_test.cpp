#include "host_policy_engine.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "fake_power_control.h"
#include "log_capture.h"
#include "policy_test_fakes.h"
#include "power_decision.h"

namespace vmpower {
namespace {

using namespace std::chrono;
using testing::FakeBranches;
using testing::FakePowerControl;
using testing::FakeTraffic;
using testing::SettableWall;

constexpr const char* kUuid = "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e";
constexpr const char* kUuid2 = "0b6a7c3e-81d2-4f4e-a0a1-5e2d9c8b7a61";  // vm2

class NoSharing final : public PcpuSharing {
  public:
    bool sharedWithOtherDomain(std::string_view, const CpuSet&) const override { return false; }
};

struct Rig {
    Rig() : Rig(AccessRule{}) {}
    explicit Rig(AccessRule rule) {
        rule.name = "lab";
        rule.name_globs = {"vm*"};
        rule.limits = {1000, 3000000};
        rules.replace(std::make_shared<const AccessRules>(std::vector<AccessRule>{rule}));
        guest = GuestIdentity{"vm1", kUuid, &vcpus};
        guest2 = GuestIdentity{"vm2", kUuid2, &vcpus};
        engine = std::make_unique<HostPolicyEngine>(
            power, sharing, rules,
            [this](std::string_view uuid) -> const GuestIdentity* {
                if (uuid == kUuid2) return &guest2;
                return running && uuid == kUuid ? &guest : nullptr;
            },
            [this](std::optional<milliseconds> d) { armed = d; },
            HostPolicyEdges{&clock, &wall, &traffic, &branches},
            HostPolicySettings{seconds(1), milliseconds(100), 0.1, 2});
    }
    HostPolicy workload(Workload w, std::vector<unsigned> v = {0, 2}) {
        HostPolicy p;
        p.type = HostPolicyType::Workload;
        p.workload = w;
        p.vcpus = std::move(v);
        return p;
    }
    // As the Agent does on a reload.
    void reload(std::shared_ptr<const AccessRules> next) {
        rules.replace(std::move(next));
        engine->rulesReplaced();
    }
    Verdict set(HostPolicy p) { return set(std::move(p), guest); }
    Verdict set(HostPolicy p, const GuestIdentity& who) {
        return engine->set(who, std::move(p), PolicyOrigin::Guest);
    }
    // The policy-slot holds applied since the last call, as "vcpu:action".
    std::vector<std::string> applied(std::string_view uuid = kUuid) {
        std::vector<std::string> out;
        for (const auto& c : power.calls) {
            EXPECT_EQ(c.who.domainUuid(), uuid);
            EXPECT_EQ(c.who.kind(), Requester::Kind::HostPolicy) << "not in the policy's slot";
            EXPECT_EQ(c.pcpus, vcpus.pcpus(c.who.number()));
            EXPECT_EQ(c.limits.floor_khz, 1000u);
            out.push_back(std::to_string(c.who.number()) + ":" +
                          std::string(powerActionName(c.action)));
        }
        power.calls.clear();
        return out;
    }
    std::vector<unsigned> releasedVcpus() {
        std::vector<unsigned> out;
        for (const auto& r : power.released_holders) {
            EXPECT_EQ(r.who.kind(), Requester::Kind::HostPolicy);
            out.push_back(r.who.number());
        }
        power.released_holders.clear();
        return out;
    }

    FakePowerControl power;
    NoSharing sharing;
    ManualClock clock;
    SettableWall wall;
    FakeTraffic traffic;
    FakeBranches branches;
    VcpuMap vcpus{{CpuSet{2}, CpuSet{3}, CpuSet{4}}};
    GuestIdentity guest, guest2;  // vm2 always runs
    bool running = true;
    RulesInForce rules;
    std::optional<milliseconds> armed;
    std::unique_ptr<HostPolicyEngine> engine;
};

TEST(HostPolicyEngine, WorkloadLevelsHoldMaxMiddleMinInThePolicySlot) {
    Rig rig;
    EXPECT_TRUE(rig.set(rig.workload(Workload::High)).ok());
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:max", "2:max"}));
    EXPECT_EQ(rig.engine->view(kUuid)->level, PolicyLevel::Max);
    EXPECT_FALSE(rig.armed) << "WORKLOAD needs no timer";

    EXPECT_TRUE(rig.set(rig.workload(Workload::Medium, {1})).ok());
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"1:middle"}));
    // The old policy's vCPUs it no longer names are given back.
    EXPECT_EQ(rig.releasedVcpus(), (std::vector<unsigned>{0, 2}));
    EXPECT_TRUE(rig.set(rig.workload(Workload::Low, {1})).ok());
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"1:min"}));
}

TEST(HostPolicyEngine, RemoveGivesTheVcpusBack) {
    Rig rig;
    ASSERT_TRUE(rig.set(rig.workload(Workload::High)).ok());
    rig.applied();
    EXPECT_TRUE(rig.engine->removeHostPolicy(kUuid));
    EXPECT_EQ(rig.releasedVcpus(), (std::vector<unsigned>{0, 2}));
    EXPECT_FALSE(rig.engine->view(kUuid));
    EXPECT_FALSE(rig.engine->removeHostPolicy(kUuid));
    EXPECT_TRUE(rig.power.calls.empty());
}

TEST(HostPolicyEngine, TheRuleDecidesWhichTypesAVmMaySet) {
    AccessRule rule;
    rule.allowed_policies = {HostPolicyType::Time};
    Rig rig(rule);
    EXPECT_EQ(rig.set(rig.workload(Workload::High)).reason(),
              "policy workload not allowed by the rule 'lab' (policies: time)");
    EXPECT_TRUE(rig.power.calls.empty());
    EXPECT_FALSE(rig.engine->view(kUuid));
}

// `commands` bound host policies too: each decision needs the command that
// reaches its level, and a refusal names the missing one.
TEST(HostPolicyEngine, EmptyCommandsShutTheVmOutOfEveryLevel) {
    AccessRule rule;
    rule.allowed_actions = {};
    Rig rig(rule);
    EXPECT_EQ(rig.set(rig.workload(Workload::Low)).reason(), "the rule does not allow 'min'");
    EXPECT_EQ(rig.set(rig.workload(Workload::High)).reason(), "the rule does not allow 'max'");
    EXPECT_EQ(rig.set(rig.workload(Workload::Medium)).reason(),
              "the rule does not allow 'up' or 'down'");
    EXPECT_TRUE(rig.power.calls.empty());
    EXPECT_FALSE(rig.engine->view(kUuid));
}

TEST(HostPolicyEngine, ARaiseOnlyRuleMayHoldMaxButATimePolicyCannotLower) {
    AccessRule rule;
    rule.allowed_actions = {PowerAction::ScaleUp, PowerAction::Max};
    Rig rig(rule);
    HostPolicy p = testing::busy9Quiet10();
    rig.wall.at(9, 0, 0, 5);
    ASSERT_TRUE(rig.set(p).ok());
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"1:max"}));
    rig.wall.at(10, 0, 0, 5);
    rig.engine->onTimer();
    // Quiet hours would mean min: refused, shown, and max holds again.
    EXPECT_EQ(rig.engine->view(kUuid)->refusal, "the rule does not allow 'min'");
    EXPECT_EQ(rig.engine->view(kUuid)->level, PolicyLevel::Max);
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"1:max"}));
    // `up` lets the middle step be held (it is reached by stepping).
    EXPECT_TRUE(rig.set(rig.workload(Workload::Medium, {1})).ok());
}

TEST(HostPolicyEngine, ARefusedDecisionLeavesNothingHeldAndTheOldPolicyInForce) {
    Rig rig;
    ASSERT_TRUE(rig.set(rig.workload(Workload::High, {0})).ok());
    rig.applied();
    rig.power.apply_result = false;
    rig.power.refusal = "vm2 runs there too and did not ask";
    EXPECT_EQ(rig.set(rig.workload(Workload::Low, {0, 1})).reason(),
              "vCPU 0: cpufreq refused: vm2 runs there too and did not ask");
    EXPECT_EQ(rig.engine->view(kUuid)->policy.workload, Workload::High);
    // The old policy held again (refused by this fake too, but asked).
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:min", "0:max"}));
}

TEST(HostPolicyEngine, VcpusOutOfTheVmAreRefused) {
    Rig rig;
    EXPECT_EQ(rig.set(rig.workload(Workload::High, {3})).reason(),
              "vCPU 3 out of range (the VM has 3)");
    EXPECT_EQ(rig.set(rig.workload(Workload::High, {})).reason(), "the policy names no vCPU");
}

TEST(HostPolicyEngine, TimeFollowsTheLocalHourOnATimerArmedForTheNextChange) {
    Rig rig;
    HostPolicy p = testing::busy9Quiet10();
    rig.wall.at(8, 59, 59, 900);
    ASSERT_TRUE(rig.set(p).ok());
    EXPECT_EQ(rig.applied(), std::vector<std::string>{});  // hour 8: in no list
    ASSERT_TRUE(rig.armed);
    EXPECT_EQ(*rig.armed, milliseconds(105));  // 100 ms to 9:00, and a little past

    rig.wall.at(9, 0, 0, 5);
    rig.engine->onTimer();
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"1:max"}));
    EXPECT_EQ(*rig.armed, minutes(60));  // 59:59.995 to 10:00, +5 ms
    rig.wall.at(9, 30);
    rig.engine->onTimer();  // the same hour: nothing written again
    EXPECT_EQ(rig.applied(), std::vector<std::string>{});

    rig.wall.at(10, 0, 0, 5);
    rig.engine->onTimer();
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"1:min"}));
    rig.wall.at(11, 0, 0, 5);
    rig.engine->onTimer();
    EXPECT_EQ(rig.applied(), std::vector<std::string>{});
    EXPECT_EQ(rig.releasedVcpus(), (std::vector<unsigned>{1, 1}));  // at set, and at 11:00
    EXPECT_EQ(rig.engine->view(kUuid)->level, std::nullopt);
}

HostPolicy trafficPolicy() {
    HostPolicy p;
    p.type = HostPolicyType::Traffic;
    p.vcpus = {0};
    p.traffic = {10, 1000, 5000};
    p.macs = {*parseMac("52:54:00:00:00:01")};
    return p;
}

TEST(HostPolicyEngine, TrafficMeasuresTheVmsSelectedInterfacesInOneCallPerSample) {
    Rig rig;
    ASSERT_TRUE(rig.set(trafficPolicy()).ok());
    ASSERT_TRUE(rig.set(rig.workload(Workload::High, {1}), rig.guest2).ok());  // asked nothing
    rig.applied(kUuid2);
    EXPECT_EQ(*rig.armed, milliseconds(0));  // the first sample at once

    auto counters = [&](std::uint64_t selected, std::uint64_t other) {
        rig.traffic.answer[kUuid] = {
            InterfaceCounters{"vnet0", parseMac("52:54:00:00:00:01"), selected},
            InterfaceCounters{"vnet1", parseMac("52:54:00:00:00:02"), other}};
    };
    // One sample: asked on the timer, answered later (on the loop).
    auto sample = [&] {
        rig.engine->onTimer();
        EXPECT_EQ(rig.traffic.answerQueued(), 1u);
    };
    counters(100, 0);
    sample();
    EXPECT_EQ(rig.traffic.calls, 1);
    EXPECT_EQ(rig.traffic.asked, std::vector<std::string>{kUuid});  // its holders only
    EXPECT_EQ(rig.applied(), std::vector<std::string>{});           // one sample is no rate
    EXPECT_EQ(*rig.armed, seconds(1));

    rig.clock.advance(seconds(2));
    counters(100 + 2 * 2000, 1'000'000);  // 2000/s on the selected one; the other ignored
    sample();
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:middle"}));

    rig.clock.advance(seconds(1));
    counters(4100 + 6000, 0);
    sample();
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:max"}));
    rig.clock.advance(seconds(1));
    counters(10100 + 5, 0);
    sample();
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:min"}));
    EXPECT_EQ(rig.traffic.calls, 4);
    const TrafficSamplingView v = *rig.engine->view(kUuid)->traffic;
    EXPECT_EQ(v.samples, 4u);
    EXPECT_EQ(v.interval, seconds(1));
    EXPECT_FALSE(rig.engine->view(kUuid2)->traffic) << "WORKLOAD samples nothing";
}

TEST(HostPolicyEngine, OneTrafficSampleInFlightAtMostAndTheLoopServesOthersMeanwhile) {
    Rig rig;
    ASSERT_TRUE(rig.set(trafficPolicy()).ok());
    rig.engine->onTimer();
    EXPECT_EQ(rig.traffic.calls, 1);
    EXPECT_TRUE(rig.engine->trafficSampling().in_flight);
    EXPECT_FALSE(rig.armed) << "nothing to wake for until the answer";

    // The source is slow: the timer may fire, time passes, nothing is asked
    // again, and the engine serves another VM's policy at once.
    for (int i = 0; i < 5; ++i) {
        rig.clock.advance(seconds(3));
        rig.engine->onTimer();
    }
    EXPECT_EQ(rig.traffic.calls, 1);
    ASSERT_TRUE(rig.set(rig.workload(Workload::High, {1, 2}), rig.guest2).ok());
    EXPECT_EQ(rig.applied(kUuid2), (std::vector<std::string>{"1:max", "2:max"}));
    EXPECT_EQ(rig.engine->view(kUuid2)->level, PolicyLevel::Max);

    EXPECT_EQ(rig.traffic.answerQueued(), 1u);
    EXPECT_FALSE(rig.engine->trafficSampling().in_flight);
    // It took 15 s: the interval stretched to 30 s, the next due 15 s on.
    EXPECT_EQ(rig.engine->trafficSampling().interval, seconds(30));
    EXPECT_EQ(*rig.armed, seconds(15));
    rig.clock.advance(seconds(15));
    rig.engine->onTimer();
    EXPECT_EQ(rig.traffic.calls, 2);
}

TEST(HostPolicyEngine, ASlowTrafficSourceStretchesTheIntervalAndShowVmSaysSo) {
    Rig rig;
    rig.traffic.clock = &rig.clock;
    rig.traffic.delay = milliseconds(850);
    ASSERT_TRUE(rig.set(trafficPolicy()).ok());
    rig.engine->onTimer();
    rig.traffic.answerQueued();
    TrafficSamplingView v = *rig.engine->view(kUuid)->traffic;
    EXPECT_EQ(v.last_duration, milliseconds(850));
    EXPECT_EQ(v.interval, milliseconds(1700));  // twice what it took
    EXPECT_EQ(*rig.armed, milliseconds(850));   // 1.7 s after it started

    rig.traffic.delay = minutes(1);  // stretched no further than the cap
    rig.clock.advance(milliseconds(850));
    rig.engine->onTimer();
    rig.traffic.answerQueued();
    EXPECT_EQ(rig.engine->trafficSampling().interval, seconds(30));
    EXPECT_EQ(*rig.armed, milliseconds(0)) << "past the cap: the next at once, one at a time";

    rig.traffic.delay = milliseconds(20);  // fast again: the configured interval
    rig.engine->onTimer();
    rig.traffic.answerQueued();
    v = *rig.engine->view(kUuid)->traffic;
    EXPECT_EQ(v.interval, seconds(1));
    EXPECT_EQ(v.last_duration, milliseconds(20));
    EXPECT_EQ(*rig.armed, milliseconds(980));
    EXPECT_EQ(v.samples, 3u);
}

TEST(HostPolicyEngine, TheAnswerForAHolderGoneMeanwhileIsDropped) {
    Rig rig;
    rig.traffic.answer[kUuid] = {InterfaceCounters{"vnet0", parseMac("52:54:00:00:00:01"), 1}};
    ASSERT_TRUE(rig.set(trafficPolicy()).ok());
    rig.engine->onTimer();
    ASSERT_TRUE(rig.set(rig.workload(Workload::Low, {0})).ok());  // no longer TRAFFIC
    rig.applied();
    rig.traffic.answerQueued();
    EXPECT_TRUE(rig.applied().empty());
    EXPECT_EQ(rig.engine->view(kUuid)->level, PolicyLevel::Min);

    // The engine gone with a sample in flight: the answer is nobody's.
    ASSERT_TRUE(rig.set(trafficPolicy()).ok());
    rig.clock.advance(seconds(1));
    rig.engine->onTimer();
    ASSERT_EQ(rig.traffic.queued(), 1u);
    rig.engine.reset();
    EXPECT_EQ(rig.traffic.answerQueued(), 1u);  // and nothing ran
}

TEST(HostPolicyEngine, AFailedTrafficSampleIsLoggedOncePerNewReasonAndCounted) {
    Rig rig;
    ASSERT_TRUE(rig.set(trafficPolicy()).ok());
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_st>(64);
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
    auto sample = [&](const char* refusal) {
        rig.traffic.refusal = refusal;
        rig.engine->onTimer();
        rig.traffic.answerQueued();
        rig.clock.advance(seconds(1));
    };
    sample("libvirt: connection closed");
    sample("libvirt: connection closed");
    sample("libvirt: connection closed");
    sample("libvirt: timed out");
    const TrafficSamplingView failing = rig.engine->trafficSampling();
    sample("");
    spdlog::set_default_logger(previous);
    EXPECT_EQ(failing.failures, 4u);
    EXPECT_EQ(failing.last_error, "libvirt: timed out");
    EXPECT_EQ(rig.traffic.calls, 5);
    const TrafficSamplingView v = *rig.engine->view(kUuid)->traffic;
    EXPECT_EQ(v.failures, 4u);
    EXPECT_EQ(v.samples, 1u);
    EXPECT_EQ(v.last_error, "");
    std::vector<std::string> lines;
    for (const std::string& line : sink->last_formatted()) {
        if (line.find("interface statistics") != std::string::npos)
            lines.push_back(line.substr(line.find("host policies:")));
    }
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "host policies: interface statistics unavailable: libvirt: connection "
                         "closed\n",
                         "host policies: interface statistics unavailable: libvirt: timed out\n",
                         "host policies: interface statistics available again\n"}));
}

TEST(HostPolicyEngine, BranchRatioIsRefusedWithTheSourcesReasonElseFollowsTheRatio) {
    Rig rig;
    HostPolicy p;
    p.type = HostPolicyType::BranchRatio;
    p.vcpus = {0, 1};
    rig.branches.refusal = "perf events are not available here";
    EXPECT_FALSE(rig.set(p).ok());  // the refusal's words: branch_ratio_policy_test
    EXPECT_FALSE(rig.engine->view(kUuid));

    rig.branches.refusal.clear();
    ASSERT_TRUE(rig.set(p).ok());
    EXPECT_EQ(rig.branches.opened, (std::vector<unsigned>{0, 1}));
    std::uint64_t branches = 0, misses = 0;
    auto tick = [&](std::uint64_t b, std::uint64_t m) {
        branches += b;
        misses += m;
        rig.branches.counts = BranchCounts{branches, misses};
        rig.clock.advance(milliseconds(100));
        rig.engine->onTimer();
    };
    tick(0, 0);      // the baseline
    tick(1000, 50);  // 0.05: min, which it already decided
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:min", "1:min"}));
    tick(1000, 300);  // 0.3, once: not yet (hysteresis of 2 samples)
    EXPECT_EQ(rig.applied(), std::vector<std::string>{});
    tick(1000, 300);
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:max", "1:max"}));
    EXPECT_TRUE(rig.engine->removeHostPolicy(kUuid));
    EXPECT_EQ(rig.branches.closed, 1);
}

// Precedence (docs/policy.md): the rule's host_policy: is the default; the
// latest guest or operator policy replaces it; their REMOVE brings it back.
AccessRule ruleWithDefault(Workload w) {
    AccessRule rule;
    HostPolicy p;
    p.type = HostPolicyType::Workload;
    p.workload = w;
    p.vcpus = {0, 1};
    rule.host_policy = p;
    return rule;
}

TEST(HostPolicyEngine, TheRulesPolicyIsTheDefaultGuestsReplaceAndRemoveBringsBack) {
    Rig rig(ruleWithDefault(Workload::Medium));
    std::vector<std::string> changes;
    rig.engine->onChange([&](std::string_view uuid) { changes.emplace_back(uuid); });
    rig.engine->settle(kUuid);
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:middle", "1:middle"}));
    EXPECT_EQ(rig.engine->view(kUuid)->origin, PolicyOrigin::Rule);
    EXPECT_EQ(changes.size(), 1u);
    rig.engine->settle(kUuid);  // once per start: nothing again
    EXPECT_TRUE(rig.applied().empty());
    EXPECT_FALSE(rig.engine->removeHostPolicy(kUuid)) << "the rule's policy is the file's";

    ASSERT_TRUE(rig.set(rig.workload(Workload::High, {1})).ok());
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"1:max"}));
    EXPECT_EQ(rig.releasedVcpus(), (std::vector<unsigned>{0}));
    EXPECT_EQ(rig.engine->view(kUuid)->origin, PolicyOrigin::Guest);

    EXPECT_TRUE(rig.engine->removeHostPolicy(kUuid));
    EXPECT_EQ(rig.releasedVcpus(), (std::vector<unsigned>{1}));
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:middle", "1:middle"}));
    EXPECT_EQ(rig.engine->view(kUuid)->origin, PolicyOrigin::Rule);
    EXPECT_EQ(changes.size(), 4u);  // rule, guest, removed, rule again
}

TEST(HostPolicyEngine, AReloadReplacesOrDropsTheRulesPolicyAndKeepsTheGuests) {
    Rig rig(ruleWithDefault(Workload::Medium));
    rig.engine->settle(kUuid);
    rig.applied();
    auto reloaded = [](std::optional<Workload> w) {
        AccessRule rule = w ? ruleWithDefault(*w) : AccessRule{};
        rule.name = "lab";
        rule.name_globs = {"vm*"};
        rule.limits = {1000, 3000000};
        return std::make_shared<const AccessRules>(std::vector<AccessRule>{rule});
    };
    rig.reload(reloaded(Workload::Low));
    EXPECT_EQ(rig.applied().at(0), "0:min");
    EXPECT_EQ(rig.engine->view(kUuid)->policy.workload, Workload::Low);
    EXPECT_EQ(rig.engine->view(kUuid)->level, PolicyLevel::Min);

    rig.reload(reloaded(std::nullopt));
    EXPECT_FALSE(rig.engine->view(kUuid));
    EXPECT_EQ(rig.releasedVcpus(), (std::vector<unsigned>{0, 1}));
    rig.engine->settle(kUuid);
    EXPECT_TRUE(rig.applied().empty());

    // A guest's policy outlives a reload that changes the default.
    rig.reload(reloaded(Workload::Medium));
    rig.engine->settle(kUuid);
    rig.applied();
    ASSERT_TRUE(rig.set(rig.workload(Workload::High, {2})).ok());
    rig.applied();
    rig.reload(reloaded(Workload::Low));
    rig.engine->settle(kUuid);
    EXPECT_EQ(rig.engine->view(kUuid)->origin, PolicyOrigin::Guest);
    EXPECT_EQ(rig.engine->view(kUuid)->policy.vcpus, std::vector<unsigned>{2});
}

TEST(HostPolicyEngine, ARefusedRulePolicyHoldsNothingAndIsNotRetriedUntilReload) {
    Rig rig(ruleWithDefault(Workload::High));
    rig.power.apply_result = false;
    rig.power.refusal = "vm2 runs there too and did not ask";
    rig.engine->settle(kUuid);
    EXPECT_FALSE(rig.engine->view(kUuid));
    rig.power.calls.clear();
    rig.engine->settle(kUuid);
    EXPECT_TRUE(rig.power.calls.empty());
}

TEST(HostPolicyEngine, AStoppedDomainsPolicyIsForgotten) {
    Rig rig;
    ASSERT_TRUE(rig.set(rig.workload(Workload::High)).ok());
    rig.running = false;
    rig.engine->forgetMissing();
    EXPECT_FALSE(rig.engine->view(kUuid));
    EXPECT_EQ(rig.power.released, std::vector<std::string>{kUuid});
}

// A guest re-sending its PKT_POLICY (on each of its channels, say) costs
// nothing: no apply, no perf reopen, no fresh samples, no log line, no
// change to keep.
TEST(HostPolicyEngine, TheSamePolicyFromTheSameOriginAgainIsAcceptedWithoutWork) {
    Rig rig;
    int changes = 0;
    rig.engine->onChange([&](std::string_view) { ++changes; });
    ASSERT_TRUE(rig.set(rig.workload(Workload::High)).ok());
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:max", "2:max"}));
    ASSERT_EQ(changes, 1);

    test::LogCapture log;
    for (int i = 0; i < 64; ++i) EXPECT_TRUE(rig.set(rig.workload(Workload::High)).ok());
    EXPECT_EQ(rig.applied(), std::vector<std::string>{}) << "no arbiter apply";
    EXPECT_TRUE(rig.releasedVcpus().empty());
    EXPECT_EQ(changes, 1) << "nothing new to keep or carry";
    EXPECT_TRUE(log.lines().empty()) << ::testing::PrintToString(log.lines());

    // From another origin it is a change (show-vm says who set it) ...
    EXPECT_TRUE(rig.engine->set(rig.guest, rig.workload(Workload::High), PolicyOrigin::Operator));
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:max", "2:max"}));
    EXPECT_EQ(rig.engine->view(kUuid)->origin, PolicyOrigin::Operator);
    EXPECT_EQ(changes, 2);
    // ... and so is another policy.
    EXPECT_TRUE(rig.set(rig.workload(Workload::Low)).ok());
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:min", "2:min"}));
    EXPECT_EQ(changes, 3);

    // BRANCH_RATIO's perf events are not opened again.
    HostPolicy branch;
    branch.type = HostPolicyType::BranchRatio;
    branch.vcpus = {0, 1};
    ASSERT_TRUE(rig.set(branch).ok());
    EXPECT_EQ(rig.branches.opened, (std::vector<unsigned>{0, 1}));
    rig.branches.opened.clear();
    for (int i = 0; i < 64; ++i) EXPECT_TRUE(rig.set(branch).ok());
    EXPECT_TRUE(rig.branches.opened.empty()) << "no perf_event_open";
    EXPECT_EQ(rig.branches.closed, 0);
    EXPECT_EQ(changes, 4);
}

TEST(HostPolicyEngine, APolicyWhoseLastDecisionWasRefusedIsTriedAgain) {
    Rig rig;
    ASSERT_TRUE(rig.set(rig.workload(Workload::High, {0})).ok());
    rig.applied();
    rig.power.apply_result = false;
    rig.power.refusal = "vm2 runs there too";
    rig.engine->refresh(kUuid);  // re-pinned, decided again: refused
    ASSERT_FALSE(rig.engine->view(kUuid)->refusal.empty());
    rig.applied();
    rig.power.apply_result = true;
    EXPECT_TRUE(rig.set(rig.workload(Workload::High, {0})).ok());
    EXPECT_EQ(rig.applied(), (std::vector<std::string>{"0:max"}));
    EXPECT_TRUE(rig.engine->view(kUuid)->refusal.empty());
}

TEST(HostPolicyEngine, AVmsPolicyChangesAreLoggedOncePerIntervalWithTheCountHeldBack) {
    Rig rig;
    test::LogCapture log;
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(rig.set(rig.workload(i % 2 == 0 ? Workload::High : Workload::Low)).ok());
    }
    EXPECT_TRUE(rig.engine->removeHostPolicy(kUuid));
    EXPECT_EQ(rig.power.calls.size(), 20U) << "each change applied, only its line held back";
    auto lines = log.linesWith({"vm vm1:", "policy"});
    ASSERT_EQ(lines.size(), 1U) << ::testing::PrintToString(log.lines());
    EXPECT_NE(lines[0].find("new policy workload on vCPUs 0,2 set by the guest"), std::string::npos)
        << lines[0];

    rig.clock.advance(kLogThrottleInterval);
    ASSERT_TRUE(rig.set(rig.workload(Workload::Medium)).ok());
    lines = log.linesWith({"vm vm1:", "policy"});
    ASSERT_EQ(lines.size(), 2U) << ::testing::PrintToString(log.lines());
    EXPECT_NE(lines[1].find("new policy workload on vCPUs 0,2 set by the guest: "),
              std::string::npos)
        << lines[1];
    EXPECT_NE(lines[1].find(" (10 similar messages suppressed)"), std::string::npos) << lines[1];
}

}  // namespace
}  // namespace vmpower

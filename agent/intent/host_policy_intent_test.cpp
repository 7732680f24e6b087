// A VM's host policy in its power intent, at the registry with the real
// engine: a guest's or operator's policy is written with the intent (a
// rule's is not), re-applied on a migrated start under this host's rule,
// ignored and removed on a normal start. FakeDomainSource plays libvirt,
// FakePowerControl the Arbiter; the loop is real.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "channel_rig.h"
#include "clock.h"
#include "domain_registry.h"
#include "fake_domain_source.h"
#include "host_policy_engine.h"
#include "power_decision.h"
#include "power_intent_keeper.h"
#include "test_support.h"

namespace vmpower {
namespace {

using namespace std::chrono_literals;
constexpr const char* kUuid = "11111111-1111-1111-1111-111111111111";
constexpr const char* kGuestHighOnVcpu0 =
    "<vmpower-intent:host-policy set-by=\"guest\" type=\"workload\" vcpus=\"0\" "
    "workload=\"high\"/>";

std::string domainXml(const std::string& intent_body) {
    return "<domain type='kvm' id='4'><name>vm1</name><uuid>" + std::string(kUuid) +
           "</uuid><metadata><vmpower-intent:intent "
           "xmlns:vmpower-intent=\"urn:vmpower:intent:1\">" +
           intent_body +
           "</vmpower-intent:intent></metadata><memory>1048576</memory><vcpu>2</vcpu><os><type>"
           "hvm</type></os><devices/></domain>";
}

class NoSharing final : public PcpuSharing {
  public:
    bool sharedWithOtherDomain(std::string_view, const CpuSet&) const override { return false; }
};

class HostPolicyInTheIntent : public ::testing::Test {
  protected:
    explicit HostPolicyInTheIntent(AccessRule rule = testing::allowAll()) {
        rules_.replace(std::make_shared<const AccessRules>(std::vector<AccessRule>{rule}));
        // As the Agent wires them: the keeper hears the registry and the handler.
        keeper_ = std::make_unique<PowerIntentKeeper>(source_, rig_.power, rig_.env.retries);
        registry_ = std::make_unique<DomainRegistry>(rig_.env, source_, rig_.power, keeper_.get());
        engine_ = std::make_unique<HostPolicyEngine>(
            rig_.power, sharing_, rules_,
            [this](std::string_view uuid) -> const GuestIdentity* {
                const Domain* d = registry_->find(uuid);
                return d ? &d->identity : nullptr;
            },
            [](std::optional<std::chrono::milliseconds>) {}, HostPolicyEdges{&clock_});
        // As the Agent wires them.
        engine_->onChange([this](std::string_view uuid) {
            const auto now = engine_->view(uuid);
            keeper_->hostPolicyChanged(uuid, now ? &*now : nullptr);
        });
        keeper_->setHostPolicySink(engine_.get());
    }
    void start(const std::string& intent_body, bool migrated) {
        source_.add(kUuid, {"vm1", domainXml(intent_body), {{CpuSet{2}, CpuSet{3}}}, true});
        registry_->onEvent(kUuid, DomainStarted{migrated});
        source_.settle();
        ASSERT_NE(registry_->find(kUuid), nullptr);
    }
    bool turnUntilWritten() {
        auto until = std::chrono::steady_clock::now() + 5s;
        EventLoop::Timer tick([] {});
        while (source_.metadata_writes.empty() && std::chrono::steady_clock::now() < until) {
            tick.arm(1ms);
            EventLoop::runOnce();
        }
        return !source_.metadata_writes.empty();
    }
    std::vector<std::string> policyHolds() {
        std::vector<std::string> out;
        for (const auto& c : rig_.power.calls) {
            if (c.who.kind() != Requester::Kind::HostPolicy) continue;
            out.push_back(std::to_string(c.who.number()) + ":" +
                          std::string(powerActionName(c.action)));
        }
        return out;
    }

    testing::ChannelRig<SteadyClock> rig_{{testing::allowAll()}, 8};
    testing::FakeDomainSource source_;
    SteadyClock clock_;
    NoSharing sharing_;
    RulesInForce rules_;                         // the engine's
    std::unique_ptr<PowerIntentKeeper> keeper_;  // outlives the registry, which reports to it
    std::unique_ptr<DomainRegistry> registry_;
    std::unique_ptr<HostPolicyEngine> engine_;
};

TEST_F(HostPolicyInTheIntent, AGuestsPolicyArrivingByMigrationIsAppliedHere) {
    start(
        "<vmpower-intent:host-policy set-by=\"guest\" type=\"workload\" vcpus=\"0-1\" "
        "workload=\"high\"/>",
        true);
    EXPECT_EQ(policyHolds(), (std::vector<std::string>{"0:max", "1:max"}));
    auto view = engine_->view(kUuid);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->origin, PolicyOrigin::Guest);
    EXPECT_EQ(view->policy.workload, Workload::High);
    ASSERT_TRUE(keeper_->find(kUuid)->host_policy);
    // libvirt holds what was read: nothing to write.
    EventLoop::Timer tick([] {});
    for (int i = 0; i < 50; ++i) {
        tick.arm(10ms);
        EventLoop::runOnce();
    }
    EXPECT_EQ(source_.metadata_calls, 0);
}

TEST_F(HostPolicyInTheIntent, ANormalStartIgnoresTheCarriedPolicyAndRemovesIt) {
    start(kGuestHighOnVcpu0, false);
    EXPECT_TRUE(policyHolds().empty());
    EXPECT_FALSE(engine_->view(kUuid));
    ASSERT_TRUE(turnUntilWritten());
    EXPECT_EQ(source_.metadata_writes.back().element, "");
}

TEST_F(HostPolicyInTheIntent, TheOperatorsPolicyIsWrittenWithTheIntentAndRemovedWithIt) {
    start("", false);
    ASSERT_TRUE(turnUntilWritten());  // the empty intent element removed
    source_.metadata_writes.clear();
    HostPolicy p;
    p.type = HostPolicyType::Workload;
    p.workload = Workload::Medium;
    p.vcpus = {1};
    ASSERT_TRUE(
        engine_->setHostPolicy(registry_->find(kUuid)->identity, p, PolicyOrigin::Operator));
    ASSERT_TRUE(turnUntilWritten());
    EXPECT_EQ(source_.metadata_writes.back().element,
              "<intent>\n  <host-policy set-by=\"operator\" type=\"workload\" vcpus=\"1\" "
              "workload=\"medium\"/>\n</intent>\n");
    source_.metadata_writes.clear();
    ASSERT_TRUE(engine_->removeHostPolicy(kUuid));
    ASSERT_TRUE(turnUntilWritten());
    EXPECT_EQ(source_.metadata_writes.back().element, "");
}

AccessRule timeOnly() {
    AccessRule rule = testing::allowAll();
    rule.allowed_policies = {HostPolicyType::Time};
    return rule;
}

class HostPolicyInTheIntentUnderAStricterRule : public HostPolicyInTheIntent {
  protected:
    HostPolicyInTheIntentUnderAStricterRule() : HostPolicyInTheIntent(timeOnly()) {}
};

TEST_F(HostPolicyInTheIntentUnderAStricterRule, APolicyThisHostsRuleForbidsIsNotApplied) {
    start(kGuestHighOnVcpu0, true);
    EXPECT_TRUE(policyHolds().empty());
    EXPECT_FALSE(engine_->view(kUuid));
    const DomainIntentRecord* r = keeper_->find(kUuid);
    ASSERT_NE(r, nullptr);
    EXPECT_FALSE(r->host_policy);
    EXPECT_EQ(r->host_policy_refusal,
              "policy workload not allowed by the rule 'test' (policies: time)");
}

}  // namespace
}  // namespace vmpower

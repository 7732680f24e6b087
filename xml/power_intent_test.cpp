#include "power_intent.h"

#include <gtest/gtest.h>

#include "outside_text.h"

namespace vmpower {
namespace {

using Kind = LevelPosition::Kind;

// A running domain's XML with `metadata` inside <metadata>, as libvirt
// prints it.
std::string domainWith(const std::string& metadata) {
    return "<domain type='kvm' id='3'><name>vm</name><uuid>11111111-1111-1111-1111-111111111111"
           "</uuid><metadata>" +
           metadata + "</metadata><vcpu>4</vcpu><devices/></domain>";
}

// What libvirt makes of powerIntentElement() text set with our key: every
// element prefixed, the namespace declared on the root.
std::string asLibvirtStoresIt(const std::string& body) {
    return "<vmpower-intent:intent xmlns:vmpower-intent=\"urn:vmpower:intent:1\">" + body +
           "</vmpower-intent:intent>";
}

std::string problemsOf(const PowerIntentReading& r) {
    std::string all;
    for (const auto& p : r.problems) all += p + "\n";
    return all;
}

TEST(PowerIntent, WrittenThenReadBackAsLibvirtKeepsIt) {
    PowerIntent intent;
    intent.vcpus = {{0, LevelPosition{Kind::Max, 0, 0}, 2600000, true},
                    {1, LevelPosition{Kind::Step, 2, 10}, 2200000, std::nullopt},
                    {3, std::nullopt, std::nullopt, false}};
    const std::string element = powerIntentElement(intent);
    EXPECT_EQ(element,
              "<intent>\n"
              "  <vcpu id=\"0\" level=\"max\" khz=\"2600000\" turbo=\"on\"/>\n"
              "  <vcpu id=\"1\" level=\"step\" from-top=\"2\" of=\"10\" khz=\"2200000\"/>\n"
              "  <vcpu id=\"3\" turbo=\"off\"/>\n"
              "</intent>\n");
    // libvirt prefixes each element with the key.
    std::string stored = element;
    for (std::string::size_type at = 0; (at = stored.find('<', at)) != std::string::npos; ++at) {
        stored.insert(at + (stored[at + 1] == '/' ? 2 : 1), "vmpower-intent:");
    }
    stored.insert(stored.find("<vmpower-intent:intent") + 22,
                  " xmlns:vmpower-intent=\"urn:vmpower:intent:1\"");
    PowerIntentReading r = readPowerIntent(domainWith(stored));
    EXPECT_EQ(problemsOf(r), "");
    ASSERT_TRUE(r.intent.has_value());
    EXPECT_EQ(*r.intent, intent);
}

TEST(PowerIntent, FoundByNamespaceWhateverThePrefix) {
    PowerIntentReading r = readPowerIntent(domainWith(
        "<other:intent xmlns:other='urn:someone:else'><other:vcpu id='0' "
        "level='max'/></other:intent>"
        "<p:intent xmlns:p='urn:vmpower:intent:1'><p:vcpu id='2' level='min'/></p:intent>"));
    ASSERT_TRUE(r.intent.has_value());
    ASSERT_EQ(r.intent->vcpus.size(), 1u);
    EXPECT_EQ(r.intent->vcpus[0].vcpu, 2u);
    EXPECT_EQ(r.intent->vcpus[0].level, (LevelPosition{Kind::Min, 0, 0}));
    // Default namespace works too.
    r = readPowerIntent(
        domainWith("<intent xmlns='urn:vmpower:intent:1'><vcpu id='1' level='max'/></intent>"));
    ASSERT_TRUE(r.intent.has_value());
    EXPECT_EQ(r.intent->vcpus.at(0).vcpu, 1u);
}

TEST(PowerIntent, NoneWhenAbsentOrOnlyAnotherNamespace) {
    EXPECT_FALSE(readPowerIntent(domainWith("")).intent.has_value());
    EXPECT_FALSE(readPowerIntent(domainWith("<x:intent xmlns:x='urn:vmpower:intent:2'/>")).intent);
    EXPECT_FALSE(mentionsPowerIntent(domainWith("")));
    // The provision record is not an intent.
    EXPECT_FALSE(readPowerIntent(domainWith("<vmpower:provision "
                                            "xmlns:vmpower='urn:vmpower:provision:1'/>"))
                     .intent);
}

TEST(PowerIntent, BadEntriesAreIgnoredOneByOneWithAQuotedReason) {
    PowerIntentReading r = readPowerIntent(domainWith(asLibvirtStoresIt(
        "<vmpower-intent:vcpu id='0' level='warp'/>"
        "<vmpower-intent:vcpu id='x&#10;forged log line' level='max'/>"
        "<vmpower-intent:vcpu id='99999' level='max'/>"
        "<vmpower-intent:vcpu id='1' level='step' from-top='0' of='10'/>"
        "<vmpower-intent:vcpu id='1' level='step' from-top='4' of='999999999999999999999'/>"
        "<vmpower-intent:vcpu id='2' turbo='maybe'/>"
        "<vmpower-intent:vcpu id='3'/>"
        "<vmpower-intent:vcpu id='4' level='min' khz='-5' colour='blue'/>"
        "<vmpower-intent:vcpu id='4' level='max'/>"
        "<vmpower-intent:surprise/>"
        "<vmpower-intent:vcpu id='5' level='step' from-top='1' of='3'/>")));
    ASSERT_TRUE(r.intent.has_value());
    ASSERT_EQ(r.intent->vcpus.size(), 2u);
    EXPECT_EQ(r.intent->vcpus[0], (VcpuIntent{4, LevelPosition{Kind::Min, 0, 0}, {}, {}}));
    EXPECT_EQ(r.intent->vcpus[1], (VcpuIntent{5, LevelPosition{Kind::Step, 1, 3}, {}, {}}));
    const std::string all = problemsOf(r);
    EXPECT_NE(all.find("vCPU 0: level 'warp' is not max|min|step; ignored"), std::string::npos)
        << all;
    EXPECT_NE(all.find("<vcpu id='x\\x0aforged log line'> is not a vCPU number below 4096"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("<vcpu id='99999'>"), std::string::npos) << all;
    EXPECT_NE(all.find("vCPU 1: level step needs 1 <= from-top <= of-2"), std::string::npos) << all;
    EXPECT_NE(all.find("vCPU 2: turbo 'maybe' is not on|off"), std::string::npos) << all;
    EXPECT_NE(all.find("vCPU 3: neither a level nor a turbo wish"), std::string::npos) << all;
    EXPECT_NE(all.find("vCPU 4: khz '-5' is not a frequency"), std::string::npos) << all;
    EXPECT_NE(all.find("vCPU 4: unknown attribute 'colour' skipped"), std::string::npos) << all;
    EXPECT_NE(all.find("vCPU 4 appears twice"), std::string::npos) << all;
    EXPECT_NE(all.find("unknown element 'vmpower-intent:surprise' skipped"), std::string::npos)
        << all;
    for (const auto& p : r.problems) EXPECT_EQ(p.find('\n'), std::string::npos) << p;
}

TEST(PowerIntent, TwoIntentsOrTooManyEntriesAreNotTrusted) {
    const std::string one = asLibvirtStoresIt("<vmpower-intent:vcpu id='0' level='max'/>");
    PowerIntentReading r = readPowerIntent(domainWith(one + one));
    EXPECT_FALSE(r.intent.has_value());
    EXPECT_NE(problemsOf(r).find("2 intent elements; none trusted"), std::string::npos);

    std::string many;
    for (unsigned i = 0; i < kMaxVcpus + 2; ++i) {
        many += "<vmpower-intent:vcpu id='" + std::to_string(i % 10) + "' level='max'/>";
    }
    r = readPowerIntent(domainWith(asLibvirtStoresIt(many)));
    EXPECT_FALSE(r.intent.has_value());
    EXPECT_NE(problemsOf(r).find("4098 entries (at most 4096 vCPUs); ignored"), std::string::npos)
        << problemsOf(r);
    // A flood of bad entries gives a bounded list.
    std::string bad;
    for (unsigned i = 0; i < 1000; ++i) bad += "<vmpower-intent:vcpu id='x'/>";
    r = readPowerIntent(domainWith(asLibvirtStoresIt(bad)));
    EXPECT_LE(r.problems.size(), kMaxProblems + 1);
    EXPECT_EQ(r.problems.back(), "900 more problems not listed");
}

TEST(PowerIntent, HostPolicyIsWrittenAndReadBackWithItsFields) {
    PowerIntent intent;
    intent.vcpus = {{0, LevelPosition{Kind::Max, 0, 0}, std::nullopt, std::nullopt}};
    IntentHostPolicy time;
    time.policy.type = HostPolicyType::Time;
    time.policy.vcpus = {0, 1, 2, 5};
    time.policy.busy_hours.set(9).set(10);
    time.policy.traffic_hours.set(18);
    time.policy.traffic = {0, 1000, 50000};
    time.policy.macs = {*parseMac("52:54:00:12:34:56")};
    time.set_by_guest = false;
    intent.host_policy = time;
    const std::string element = powerIntentElement(intent);
    EXPECT_NE(element.find("<host-policy set-by=\"operator\" busy_hours=\"9-10\" "
                           "macs=\"52:54:00:12:34:56\" max_pps=\"50000\" middle_pps=\"1000\" "
                           "min_pps=\"0\" traffic_hours=\"18\" type=\"time\" "
                           "vcpus=\"0-2,5\"/>"),
              std::string::npos)
        << element;
    std::string body = element.substr(element.find('\n') + 1);
    body = body.substr(0, body.rfind("</intent>"));
    for (std::string from : {"<vcpu", "<host-policy"}) {
        body.replace(body.find(from), from.size(), "<vmpower-intent:" + from.substr(1));
    }
    PowerIntentReading r = readPowerIntent(domainWith(asLibvirtStoresIt(body)));
    ASSERT_TRUE(r.intent.has_value()) << problemsOf(r);
    EXPECT_EQ(*r.intent, intent);
    EXPECT_TRUE(r.problems.empty()) << problemsOf(r);
}

TEST(PowerIntent, AnUnusableHostPolicyIsAProblemAndIgnored) {
    const std::pair<std::string, std::string> bad[] = {
        {"set-by='guest' type='weather' vcpus='0'", "'type' must be one of"},
        {"set-by='guest' type='workload'", "'vcpus' is required"},
        {"set-by='rule' type='workload' vcpus='0'", "set-by 'rule' is not guest|operator"},
        {"type='workload' vcpus='0'", "host policy without set-by"},
        {"set-by='guest' type='workload' vcpus='0,0'", "names vCPU 0 twice"},
        {"set-by='guest' type='workload' vcpus='300'", "must be a number from 0 to 255"},
        {"set-by='guest' type='time' vcpus='0' busy_hours='24'", "from 0 to 23"},
    };
    for (const auto& [attributes, why] : bad) {
        PowerIntentReading r = readPowerIntent(domainWith(
            asLibvirtStoresIt("<vmpower-intent:host-policy " + attributes +
                              "/><vmpower-intent:vcpu id='0' level='max'/>")));
        ASSERT_TRUE(r.intent.has_value()) << attributes;
        EXPECT_FALSE(r.intent->host_policy.has_value()) << attributes;
        EXPECT_EQ(r.intent->vcpus.size(), 1u) << "the rest of the intent stays";
        EXPECT_NE(problemsOf(r).find(why), std::string::npos) << problemsOf(r);
    }
    // Unknown attributes are skipped; a second policy is not trusted over the first.
    PowerIntentReading r = readPowerIntent(domainWith(asLibvirtStoresIt(
        "<vmpower-intent:host-policy set-by='guest' type='workload' vcpus='1' workload='high' "
        "colour='red'/><vmpower-intent:host-policy set-by='operator' type='workload' "
        "vcpus='0'/>")));
    ASSERT_TRUE(r.intent && r.intent->host_policy);
    EXPECT_EQ(r.intent->host_policy->policy.workload, Workload::High);
    EXPECT_TRUE(r.intent->host_policy->set_by_guest);
    EXPECT_NE(problemsOf(r).find("unknown attribute 'colour' skipped"), std::string::npos);
    EXPECT_NE(problemsOf(r).find("a second host policy ignored"), std::string::npos);
}

TEST(PowerIntent, EmptyIntentMeansRemoveTheElement) {
    EXPECT_EQ(powerIntentElement(PowerIntent{}), "");
}

TEST(PowerIntent, UnreadableDomainXmlIsAProblemNotAnException) {
    PowerIntentReading r = readPowerIntent("<domain><metadata>urn:vmpower:intent:1");
    EXPECT_FALSE(r.intent.has_value());
    EXPECT_EQ(problemsOf(r), "power intent: the domain XML is not readable; ignored\n");
}

}  // namespace
}  // namespace vmpower

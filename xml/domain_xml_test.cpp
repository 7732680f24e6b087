#include "domain_xml.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "domain_xml_test_support.h"

namespace vmpower {
namespace {

using namespace testing;

namespace fs = std::filesystem;

fs::path liveCorpus() {
    const char* root = std::getenv("VMPOWER_SOURCE_ROOT");
    return fs::path(root ? root : ".") / "tests" / "data" / "domains" / "live";
}

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

DomainDescription parseLive(const std::string& file) {
    fs::path path = liveCorpus() / file;
    std::string xml = readFile(path);
    if (xml.empty()) ADD_FAILURE() << "cannot read " << path << " (VMPOWER_SOURCE_ROOT unset?)";
    return parseDomainXml(xml);
}

// ---- corpus of live XML -------------------------------------------------

TEST(DomainXmlCorpus, Debian12DefaultHasGeneratedPathsAndNoPinning) {
    DomainDescription d = parseLive("debian12-default.xml");
    EXPECT_EQ(d.name, "vm1");
    EXPECT_EQ(d.uuid, "3f2b8c4e-9a1d-4e7b-b5c6-0d8e2f4a6b19");
    EXPECT_EQ(d.id, 1);
    EXPECT_EQ(d.vcpus_max, 2u);
    EXPECT_EQ(d.vcpus_current, 2u);
    EXPECT_EQ(d.online_vcpus, (std::vector<unsigned>{0, 1}));
    EXPECT_FALSE(d.vcpu_cpuset);
    EXPECT_FALSE(d.placement_auto);
    EXPECT_TRUE(d.vcpupin.empty());
    EXPECT_FALSE(d.emulatorpin);
    EXPECT_TRUE(d.problems.empty()) << allProblems(d);

    ASSERT_EQ(d.channels.size(), 2u);  // qemu-ga and spice are not ours
    const PowerChannel& c0 = d.channels[0];
    EXPECT_EQ(c0.index, 0u);
    EXPECT_EQ(c0.target_name, "virtio.serial.port.poweragent.0");
    EXPECT_EQ(c0.type, "unix");
    EXPECT_EQ(c0.source_path,
              "/var/lib/libvirt/qemu/channel/target/domain-1-vm1/virtio.serial.port.poweragent.0");
    EXPECT_EQ(c0.source_mode, "bind");
    EXPECT_EQ(c0.alias, "channel2");
    EXPECT_EQ(c0.target_state, "connected");
    const PowerChannel& c1 = d.channels[1];
    EXPECT_EQ(c1.index, 1u);
    EXPECT_EQ(c1.alias, "channel3");
    EXPECT_EQ(c1.target_state, "disconnected");

    EXPECT_EQ(pinStrings(effectiveVcpuPins(d, kHost)), (std::vector<std::string>{"0-7", "0-7"}));
}

TEST(DomainXmlCorpus, DpdkCpusetAppliesToEveryVcpu) {
    DomainDescription d = parseLive("dpdk-cpuset.xml");
    EXPECT_EQ(d.name, "dpdk-vm1");
    EXPECT_EQ(d.id, 4);
    EXPECT_TRUE(d.problems.empty()) << allProblems(d);
    ASSERT_TRUE(d.vcpu_cpuset);
    EXPECT_EQ(d.vcpu_cpuset->toString(), "2-4,6-7");  // '2-7,^5'
    ASSERT_EQ(d.channels.size(), 4u);
    for (unsigned i = 0; i < 4; ++i) {
        EXPECT_EQ(d.channels[i].index, i);
        EXPECT_EQ(d.channels[i].source_path, "/run/vmpower/channels/dpdk-vm1." + std::to_string(i));
        EXPECT_EQ(d.channels[i].alias, "channel" + std::to_string(i + 1));
        EXPECT_EQ(d.channels[i].source_mode, "bind");
    }
    EXPECT_EQ(d.channels[3].target_state, "disconnected");
    EXPECT_EQ(pinStrings(effectiveVcpuPins(d, kHost)), (std::vector<std::string>(4, "2-4,6-7")));
}

TEST(DomainXmlCorpus, DpdkCputunePinsEachVcpu) {
    DomainDescription d = parseLive("dpdk-cputune.xml");
    EXPECT_EQ(d.id, 5);
    EXPECT_TRUE(d.problems.empty()) << allProblems(d);
    EXPECT_EQ(d.vcpus_max, 8u);
    EXPECT_EQ(d.vcpus_current, 4u);
    EXPECT_EQ(d.vcpupin.size(), 6u);  // pins for offline vCPUs 4 and 5 are kept
    EXPECT_EQ(d.vcpupin.at(3).toString(), "7,39");
    EXPECT_EQ(d.vcpupin.at(5).toString(), "8-9");
    ASSERT_TRUE(d.emulatorpin);
    EXPECT_EQ(d.emulatorpin->toString(), "0-1");
    ASSERT_EQ(d.channels.size(), 4u);
    EXPECT_EQ(d.channels[2].source_path,
              "/run/libvirt/qemu/channel/5-dpdk-pinned/virtio.serial.port.poweragent.2");
    // Full cpusets, never "the last CPU of the mask".
    EXPECT_EQ(pinStrings(effectiveVcpuPins(d, kHost)),
              (std::vector<std::string>{"4", "5", "6", "7,39"}));
}

TEST(DomainXmlCorpus, NumadAutoWithHotpluggedVcpus) {
    DomainDescription d = parseLive("numad-auto.xml");
    EXPECT_TRUE(d.problems.empty()) << allProblems(d);
    EXPECT_TRUE(d.placement_auto);
    EXPECT_FALSE(d.vcpu_cpuset);
    EXPECT_EQ(d.vcpus_max, 4u);
    EXPECT_EQ(d.vcpus_current, 2u);
    EXPECT_EQ(d.online_vcpus, (std::vector<unsigned>{0, 2}));
    ASSERT_EQ(d.channels.size(), 2u);
    EXPECT_EQ(d.channels[1].index, 2u);
    EXPECT_EQ(pinStrings(effectiveVcpuPins(d, kHost)), (std::vector<std::string>{"0-7", "0-7"}));
}

TEST(DomainXmlCorpus, SixtyFourChannelsOverThreeControllers) {
    DomainDescription d = parseLive("many-channels-64.xml");
    EXPECT_TRUE(d.problems.empty()) << allProblems(d);
    EXPECT_EQ(d.vcpus_current, 64u);
    ASSERT_EQ(d.channels.size(), 64u);
    for (unsigned i = 0; i < 64; ++i) {
        const PowerChannel& c = d.channels[i];
        EXPECT_EQ(c.index, i);
        EXPECT_EQ(c.source_path,
                  "/var/lib/libvirt/qemu/channel/target/domain-17-many-chan/"
                  "virtio.serial.port.poweragent." +
                      std::to_string(i));
        EXPECT_EQ(c.alias, "channel" + std::to_string(i + 1));
        EXPECT_EQ(c.target_state, i < 8 ? "connected" : "disconnected");
    }
    EXPECT_EQ(effectiveVcpuPins(d, kHost).size(), 64u);
}

TEST(DomainXmlCorpus, MixedBadChannelsReportEachByAlias) {
    DomainDescription d = parseLive("mixed-bad-channels.xml");
    ASSERT_EQ(d.channels.size(), 1u) << allProblems(d);
    EXPECT_EQ(d.channels[0].index, 0u);
    EXPECT_EQ(d.channels[0].source_path, "/tmp/powermonitor/legacy-vm.0");  // first one wins

    EXPECT_EQ(d.problems.size(), 8u) << allProblems(d);
    EXPECT_TRUE(anyProblemContains(d, "poweragent.2'", "mode='connect'"));
    EXPECT_TRUE(anyProblemContains(d, "'channel1'", "type 'pty'"));
    EXPECT_TRUE(anyProblemContains(d, "'channel2'", "index"));
    EXPECT_TRUE(anyProblemContains(d, "'channel3'", "already used by"));
    EXPECT_TRUE(anyProblemContains(d, "'channel4'", "index"));  // poweragent.02
    EXPECT_TRUE(anyProblemContains(d, "'channel5'", "111 bytes"));
    EXPECT_TRUE(anyProblemContains(d, "<vcpupin vcpu='1'>", "'3-1'"));
    EXPECT_TRUE(anyProblemContains(d, "names vCPU 6", "has 4 vCPUs"));

    EXPECT_EQ(d.vcpupin.size(), 1u);
    EXPECT_EQ(pinStrings(effectiveVcpuPins(d, kHost)),
              (std::vector<std::string>{"2", "0-3", "0-3", "0-3"}));
}

TEST(DomainXmlCorpus, Utf8NameAndTruncatedGeneratedPath) {
    DomainDescription d = parseLive("utf8-long-name.xml");
    EXPECT_TRUE(d.problems.empty()) << allProblems(d);
    EXPECT_EQ(d.name, "ünï-日本-guest-with-long-name");
    ASSERT_EQ(d.channels.size(), 1u);
    EXPECT_EQ(d.channels[0].source_path,
              "/var/lib/libvirt/qemu/channel/target/domain-3-ünï-日本-guest-with-lo/"
              "virtio.serial.port.poweragent.0");
}

TEST(DomainXmlCorpus, EveryFileParsesIntoUsableChannels) {
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(liveCorpus())) {
        if (entry.path().extension() != ".xml") continue;
        ++files;
        SCOPED_TRACE(entry.path().filename().string());
        DomainDescription d = parseDomainXml(readFile(entry.path()));
        EXPECT_GE(d.id, 0);  // live XML: running domains
        EXPECT_FALSE(d.channels.empty());
        for (const auto& c : d.channels) {
            EXPECT_EQ(c.type, "unix");
            EXPECT_EQ(c.source_path.front(), '/');
            EXPECT_EQ(c.target_name, "virtio.serial.port.poweragent." + std::to_string(c.index));
            EXPECT_FALSE(c.alias.empty());
            EXPECT_FALSE(c.target_state.empty());
        }
        EXPECT_EQ(effectiveVcpuPins(d, kHost).size(), d.vcpus_current);
    }
    EXPECT_GE(files, 7u);
}

// ---- documents that describe no domain ----------------------------------

TEST(DomainXmlErrors, NotXmlThrows) {
    EXPECT_THROW(parseDomainXml(""), DomainXmlError);
    EXPECT_THROW(parseDomainXml("not xml at all"), DomainXmlError);
    EXPECT_THROW(parseDomainXml("<domain><name>a</name>"), DomainXmlError);
}

TEST(DomainXmlErrors, WrongRootThrows) {
    try {
        parseDomainXml("<network><name>default</name><uuid>x</uuid></network>");
        FAIL() << "no exception";
    } catch (const DomainXmlError& e) {
        EXPECT_NE(std::string(e.what()).find("<domain>"), std::string::npos) << e.what();
    }
}

TEST(DomainXmlErrors, MissingOrEmptyNameOrUuidThrows) {
    EXPECT_THROW(parseDomainXml("<domain><uuid>u</uuid></domain>"), DomainXmlError);
    EXPECT_THROW(parseDomainXml("<domain><name>n</name></domain>"), DomainXmlError);
    EXPECT_THROW(parseDomainXml("<domain><name> </name><uuid>u</uuid></domain>"), DomainXmlError);
    EXPECT_THROW(parseDomainXml("<domain><name>n</name><uuid/></domain>"), DomainXmlError);
}

TEST(DomainXmlErrors, IsARuntimeError) {
    EXPECT_THROW(parseDomainXml("<"), std::runtime_error);
}

// ---- vCPUs -----------------------------------------------------------------

TEST(DomainXmlVcpus, InactiveDomainHasNoId) {
    DomainDescription d = parseDomainXml(domainXml("<vcpu>2</vcpu>"));
    EXPECT_EQ(d.id, -1);
    EXPECT_TRUE(d.problems.empty());
}

TEST(DomainXmlVcpus, GarbageIdIsAProblem) {
    DomainDescription d = parseDomainXml(domainXml("<vcpu>2</vcpu>", " id='-3'"));
    EXPECT_EQ(d.id, -1);
    EXPECT_TRUE(anyProblemContains(d, "id='-3'"));
}

TEST(DomainXmlVcpus, MissingVcpuMeansOne) {
    DomainDescription d = parseDomainXml(domainXml(""));
    EXPECT_EQ(d.vcpus_max, 1u);
    EXPECT_EQ(d.vcpus_current, 1u);
    EXPECT_TRUE(d.problems.empty());
}

TEST(DomainXmlVcpus, CurrentBelowMax) {
    DomainDescription d = parseDomainXml(domainXml("<vcpu current='2'>4</vcpu>"));
    EXPECT_EQ(d.vcpus_max, 4u);
    EXPECT_EQ(d.vcpus_current, 2u);
    EXPECT_EQ(d.online_vcpus, (std::vector<unsigned>{0, 1}));
    EXPECT_EQ(effectiveVcpuPins(d, kHost).size(), 2u);
}

TEST(DomainXmlVcpus, CurrentAboveMaxIsAProblem) {
    DomainDescription d = parseDomainXml(domainXml("<vcpu current='9'>4</vcpu>"));
    EXPECT_EQ(d.vcpus_current, 4u);
    EXPECT_TRUE(anyProblemContains(d, "current='9'"));
}

TEST(DomainXmlVcpus, AbsurdCountIsClamped) {
    DomainDescription d = parseDomainXml(domainXml("<vcpu>99999999</vcpu>"));
    EXPECT_EQ(d.vcpus_max, DomainDescription::kMaxVcpus);
    EXPECT_EQ(d.vcpus_current, DomainDescription::kMaxVcpus);
    EXPECT_TRUE(anyProblemContains(d, "99999999", "4096"));

    d =
        parseDomainXml(domainXml("<vcpu current='123456789012345678901234567890'>"
                                 "123456789012345678901234567890</vcpu>"));
    EXPECT_EQ(d.vcpus_max, DomainDescription::kMaxVcpus);
    EXPECT_EQ(d.vcpus_current, DomainDescription::kMaxVcpus);
    EXPECT_EQ(d.problems.size(), 2u) << allProblems(d);
}

TEST(DomainXmlVcpus, GarbageCountIsAProblem) {
    for (const char* text : {"two", "0", "-1", "", "4x"}) {
        SCOPED_TRACE(text);
        DomainDescription d = parseDomainXml(domainXml(std::string("<vcpu>") + text + "</vcpu>"));
        EXPECT_EQ(d.vcpus_max, 1u);
        EXPECT_EQ(d.problems.size(), 1u) << allProblems(d);
    }
}

TEST(DomainXmlVcpus, WhitespaceAroundCountIsFine) {
    DomainDescription d = parseDomainXml(domainXml("<vcpu>\n  3\n</vcpu>"));
    EXPECT_EQ(d.vcpus_max, 3u);
    EXPECT_TRUE(d.problems.empty());
}

TEST(DomainXmlVcpus, VcpusElementDisagreeingWithCurrentWins) {
    DomainDescription d = parseDomainXml(domainXml(
        "<vcpu current='1'>4</vcpu><vcpus><vcpu id='1' enabled='yes'/><vcpu id='3' enabled='yes'/>"
        "<vcpu id='3' enabled='no'/><vcpu id='7' enabled='yes'/></vcpus>"));
    EXPECT_EQ(d.online_vcpus, (std::vector<unsigned>{1, 3}));
    EXPECT_EQ(d.vcpus_current, 2u);
    EXPECT_TRUE(anyProblemContains(d, "vCPU 3 twice"));
    EXPECT_TRUE(anyProblemContains(d, "names vCPU 7"));
    EXPECT_TRUE(anyProblemContains(d, "enables 2 vCPUs"));
}

TEST(DomainXmlVcpus, VcpusElementWithNothingEnabledFallsBack) {
    DomainDescription d = parseDomainXml(
        domainXml("<vcpu current='2'>3</vcpu><vcpus><vcpu id='0' enabled='no'/></vcpus>"));
    EXPECT_EQ(d.online_vcpus, (std::vector<unsigned>{0, 1}));
    EXPECT_EQ(d.problems.size(), 1u);
}

TEST(DomainXmlVcpus, UnknownPlacementIsAProblem) {
    DomainDescription d = parseDomainXml(domainXml("<vcpu placement='numa'>2</vcpu>"));
    EXPECT_FALSE(d.placement_auto);
    EXPECT_TRUE(anyProblemContains(d, "placement='numa'"));
}

// ---- pinning -------------------------------------------------------------------

TEST(DomainXmlPinning, VcpupinBeyondCountIsAProblem) {
    DomainDescription d = parseDomainXml(domainXml(
        "<vcpu>2</vcpu><cputune><vcpupin vcpu='1' cpuset='3'/><vcpupin vcpu='2' cpuset='4'/>"
        "<vcpupin vcpu='4294967296' cpuset='4'/></cputune>"));
    EXPECT_EQ(d.vcpupin.size(), 1u);
    EXPECT_EQ(d.problems.size(), 2u) << allProblems(d);
    EXPECT_TRUE(anyProblemContains(d, "names vCPU 2", "has 2 vCPUs"));
}

TEST(DomainXmlPinning, BadCpulistsAreProblems) {
    DomainDescription d = parseDomainXml(
        domainXml("<vcpu cpuset='1-x'>3</vcpu><cputune><vcpupin vcpu='0' cpuset='0-4000000000'/>"
                  "<vcpupin vcpu='1' cpuset=''/><vcpupin vcpu='x' cpuset='1'/><vcpupin cpuset='1'/>"
                  "<vcpupin vcpu='2' cpuset='^0'/><emulatorpin cpuset='9-1'/></cputune>"));
    EXPECT_FALSE(d.vcpu_cpuset);
    EXPECT_TRUE(d.vcpupin.empty());
    EXPECT_FALSE(d.emulatorpin);
    EXPECT_EQ(d.problems.size(), 7u) << allProblems(d);
    EXPECT_EQ(pinStrings(effectiveVcpuPins(d, kHost)), (std::vector<std::string>(3, "0-7")));
}

TEST(DomainXmlPinning, DuplicateVcpupinKeepsFirst) {
    DomainDescription d = parseDomainXml(domainXml(
        "<vcpu>1</vcpu><cputune><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='0' cpuset='2'/>"
        "</cputune>"));
    EXPECT_EQ(d.vcpupin.at(0).toString(), "1");
    EXPECT_EQ(d.problems.size(), 1u);
}

TEST(DomainXmlPinning, VcpupinBeatsCpusetBeatsHost) {
    DomainDescription d = parseDomainXml(
        domainXml("<vcpu cpuset='4-5' current='3'>4</vcpu><cputune><vcpupin vcpu='1' cpuset='0,2'/>"
                  "</cputune>"));
    EXPECT_EQ(pinStrings(effectiveVcpuPins(d, kHost)),
              (std::vector<std::string>{"4-5", "0,2", "4-5"}));
    d = parseDomainXml(domainXml("<vcpu current='2'>4</vcpu>"));
    EXPECT_EQ(pinStrings(effectiveVcpuPins(d, CpuSet{1, 3})),
              (std::vector<std::string>{"1,3", "1,3"}));
}

TEST(DomainXmlPinning, PlacementAutoUsesCpusetWhenGiven) {
    DomainDescription d =
        parseDomainXml(domainXml("<vcpu placement='auto' cpuset='8-11'>2</vcpu>"
                                 "<numatune><memory mode='strict' placement='auto'/></numatune>"));
    EXPECT_TRUE(d.placement_auto);
    EXPECT_EQ(pinStrings(effectiveVcpuPins(d, kHost)), (std::vector<std::string>{"8-11", "8-11"}));
    d = parseDomainXml(domainXml("<vcpu placement='auto'>2</vcpu>"));
    EXPECT_EQ(pinStrings(effectiveVcpuPins(d, kHost)), (std::vector<std::string>{"0-7", "0-7"}));
}

TEST(DomainXmlPinning, PinsFollowOnlineVcpuIds) {
    DomainDescription d = parseDomainXml(domainXml(
        "<vcpu current='2'>4</vcpu><vcpus><vcpu id='0' enabled='no'/><vcpu id='1' enabled='yes'/>"
        "<vcpu id='2' enabled='no'/><vcpu id='3' enabled='yes'/></vcpus>"
        "<cputune><vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='3' cpuset='3'/></cputune>"));
    EXPECT_EQ(d.online_vcpus, (std::vector<unsigned>{1, 3}));
    EXPECT_EQ(pinStrings(effectiveVcpuPins(d, kHost)), (std::vector<std::string>{"0-7", "3"}));
}

// ---- channels ------------------------------------------------------------------

TEST(DomainXmlChannels, OtherChannelsAreIgnoredSilently) {
    DomainDescription d = parseDomainXml(domainXml(
        "<devices>" + channelXml("pty", "org.qemu.guest_agent.0", "") +
        channelXml("spicevmc", "com.redhat.spice.0", "") +
        channelXml("unix", "virtio.serial.port.poweragen.1", "<source mode='bind' path='/a'/>") +
        "<channel type='pty'><target type='guestfwd' address='10.0.2.1' port='4600'/></channel>" +
        "<console type='unix'><source mode='bind' path='/c'/>"
        "<target type='virtio' name='virtio.serial.port.poweragent.0'/></console></devices>"));
    EXPECT_TRUE(d.channels.empty());
    EXPECT_TRUE(d.problems.empty()) << allProblems(d);
}

TEST(DomainXmlChannels, BadIndexesAreProblems) {
    std::string devices;
    int n = 0;
    for (std::string suffix :
         {"", "x", "-1", "+1", " 1", "1 ", "01", "4096", "99999999999999999999", "1.5", "0x1"}) {
        devices += channelXml("unix", "virtio.serial.port.poweragent." + suffix,
                              "<source mode='bind' path='/run/p" + std::to_string(n) + "'/>",
                              "channel" + std::to_string(n));
        ++n;
    }
    DomainDescription d = parseDomainXml(domainXml("<devices>" + devices + "</devices>"));
    EXPECT_TRUE(d.channels.empty());
    EXPECT_EQ(d.problems.size(), static_cast<std::size_t>(n)) << allProblems(d);
    for (int i = 0; i < n; ++i) {
        EXPECT_TRUE(anyProblemContains(d, "'channel" + std::to_string(i) + "'", "index"));
    }
}

TEST(DomainXmlChannels, HighestIndexIsAccepted) {
    DomainDescription d = parseDomainXml(domainXml(
        "<devices>" +
        channelXml("unix", "virtio.serial.port.poweragent.4095", "<source path='/run/p'/>") +
        "</devices>"));
    ASSERT_EQ(d.channels.size(), 1u);
    EXPECT_EQ(d.channels[0].index, 4095u);
    EXPECT_EQ(d.channels[0].source_mode, "");
    EXPECT_EQ(d.channels[0].alias, "");
    EXPECT_EQ(d.channels[0].target_state, "");
}

TEST(DomainXmlChannels, AtMost64ChannelsPerDomainTheRestAreProblems) {
    std::string devices;
    for (int i = 0; i < 70; ++i) {
        devices += channelXml("unix", "virtio.serial.port.poweragent." + std::to_string(i),
                              "<source mode='bind' path='/run/p" + std::to_string(i) + "'/>",
                              "channel" + std::to_string(i));
    }
    DomainDescription d = parseDomainXml(domainXml("<devices>" + devices + "</devices>"));
    ASSERT_EQ(d.channels.size(), 64u);
    EXPECT_EQ(d.channels.back().index, 63u) << "the first 64 in document order";
    EXPECT_EQ(d.problems.size(), 6u) << allProblems(d);
    EXPECT_TRUE(anyProblemContains(d, "'channel64'", "more than 64 power channels"));
}

TEST(DomainXmlChannels, UnusableSourcesAreProblems) {
    const std::string name = "virtio.serial.port.poweragent.";
    std::string long_path = "/" + std::string(107, 'p');
    DomainDescription d = parseDomainXml(domainXml(
        "<devices>" + channelXml("unix", name + "0", "", "channel0") +
        channelXml("unix", name + "1", "<source mode='bind' path=''/>", "channel1") +
        channelXml("unix", name + "2", "<source mode='bind' path='run/relative'/>", "channel2") +
        channelXml("unix", name + "3", "<source mode='bind' path='" + long_path + "'/>",
                   "channel3") +
        channelXml("unix", name + "4", "<source mode='listen' path='/run/p4'/>", "channel4") +
        channelXml("tcp", name + "5", "<source mode='bind' host='0.0.0.0' service='4555'/>",
                   "channel5") +
        channelXml("unix", name + "6",
                   "<source mode='bind' path='" + long_path.substr(1) + "/'/>") +
        "<channel type='unix'><source mode='bind' path='/run/p7'/>"
        "<target type='guestfwd' name='" +
        name +
        "7'/><alias name='channel7'/></channel>"
        "</devices>"));
    EXPECT_TRUE(d.channels.empty());
    ASSERT_EQ(d.problems.size(), 8u) << allProblems(d);
    EXPECT_TRUE(anyProblemContains(d, "'channel0'", "no socket path"));
    EXPECT_TRUE(anyProblemContains(d, "'channel1'", "no socket path"));
    EXPECT_TRUE(anyProblemContains(d, "'channel2'", "not absolute"));
    EXPECT_TRUE(anyProblemContains(d, "'channel3'", "108 bytes"));
    EXPECT_TRUE(anyProblemContains(d, "'channel4'", "'listen'"));
    EXPECT_TRUE(anyProblemContains(d, "'channel5'", "type 'tcp'"));
    EXPECT_TRUE(anyProblemContains(d, "poweragent.7' ('channel7')", "'guestfwd'"));
}

TEST(DomainXmlChannels, PathOfExactlySunPathLimitIsUsable) {
    std::string path = "/" + std::string(106, 'p');
    DomainDescription d =
        parseDomainXml(domainXml("<devices>" +
                                 channelXml("unix", "virtio.serial.port.poweragent.0",
                                            "<source mode='bind' path='" + path + "'/>") +
                                 "</devices>"));
    ASSERT_EQ(d.channels.size(), 1u) << allProblems(d);
    EXPECT_EQ(d.channels[0].source_path, path);
}

TEST(DomainXmlChannels, DuplicateIndexKeepsFirstUsable) {
    const std::string name = "virtio.serial.port.poweragent.3";
    DomainDescription d = parseDomainXml(
        domainXml("<devices>" + channelXml("pty", name, "", "channel0") +
                  channelXml("unix", name, "<source mode='bind' path='/run/a'/>", "channel1") +
                  channelXml("unix", name, "<source mode='bind' path='/run/b'/>", "channel2") +
                  "</devices>"));
    ASSERT_EQ(d.channels.size(), 1u);
    EXPECT_EQ(d.channels[0].source_path, "/run/a");
    EXPECT_EQ(d.problems.size(), 2u);
    EXPECT_TRUE(anyProblemContains(d, "'channel2'", "already used by channel "));
}

TEST(DomainXmlChannels, ProblemLinesCannotForgeLogLines) {
    DomainDescription d =
        parseDomainXml(domainXml("<devices>" +
                                 channelXml("pty", "virtio.serial.port.poweragent.1", "",
                                            "evil&#10;INFO all good&#13;&apos;") +
                                 "</devices>"));
    ASSERT_EQ(d.problems.size(), 1u);
    EXPECT_EQ(d.problems[0].find('\n'), std::string::npos);
    EXPECT_EQ(d.problems[0].find('\r'), std::string::npos);
    EXPECT_NE(d.problems[0].find("evil\\x0aINFO"), std::string::npos) << d.problems[0];
}

TEST(DomainXmlChannels, ProblemsAreCapped) {
    std::string devices;
    for (int i = 0; i < 500; ++i) {
        devices += channelXml("pty", "virtio.serial.port.poweragent." + std::to_string(i), "");
    }
    DomainDescription d = parseDomainXml(domainXml("<devices>" + devices + "</devices>"));
    ASSERT_EQ(d.problems.size(), 101u);
    EXPECT_EQ(d.problems.back(), "400 more problems not listed");
}

TEST(DomainXmlChannels, Utf8AliasesAndPathsSurvive) {
    DomainDescription d =
        parseDomainXml("<domain id='2'><name>ゲスト</name><uuid>u</uuid><devices>" +
                       channelXml("unix", "virtio.serial.port.poweragent.0",
                                  "<source mode='bind' path='/run/ゲスト/p.0'/>", "ua-ünï") +
                       "</devices></domain>");
    EXPECT_EQ(d.name, "ゲスト");
    ASSERT_EQ(d.channels.size(), 1u);
    EXPECT_EQ(d.channels[0].source_path, "/run/ゲスト/p.0");
    EXPECT_EQ(d.channels[0].alias, "ua-ünï");
}

TEST(DomainXmlChannels, DoctypeEntitiesAreNotExpanded) {
    // pugixml ignores DTDs: no entity from a DOCTYPE can inject a path.
    std::string xml = "<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY p '/etc/shadow'>]>" +
                      domainXml("<devices>" +
                                channelXml("unix", "virtio.serial.port.poweragent.0",
                                           "<source mode='bind' path='&p;'/>") +
                                "</devices>");
    DomainDescription d;
    try {
        d = parseDomainXml(xml);
    } catch (const DomainXmlError&) {
        return;  // refusing the document is fine too
    }
    for (const auto& c : d.channels) EXPECT_NE(c.source_path, "/etc/shadow");
}

}  // namespace
}  // namespace vmpower

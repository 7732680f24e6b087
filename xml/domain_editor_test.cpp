#include "domain_editor.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "line_diff.h"
#include "schema_validator.h"

namespace vmpower {
namespace {

namespace fs = std::filesystem;

fs::path corpusDir() {
    const char* root = std::getenv("VMPOWER_SOURCE_ROOT");
    return fs::path(root ? root : ".") / "tests/data/domains/inactive";
}

std::string readFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string corpus(const std::string& name) {
    return readFile(corpusDir() / name);
}

// Not inactive XML (libvirt has not seen it): a virt-install print-xml file.
fs::path unaddressedFile() {
    return corpusDir() / "../../../provision/data/virt-install-print-xml-unaddressed.xml";
}

const ChannelRequest kTwoInDir{2, fs::path("/var/lib/vmpower/channels")};

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
}

// Every line of the diff from `before` to `after` is an addition.
void expectOnlyAdditions(const std::string& before, const std::string& after) {
    std::istringstream diff(unifiedDiff(before, after, "a", "b"));
    std::string line;
    while (std::getline(diff, line)) {
        if (line.rfind("---", 0) == 0 || line.rfind("@@", 0) == 0) continue;
        EXPECT_NE(line[0], '-') << line;
    }
}

const SchemaValidator& validator() {
    static const SchemaValidator v;
    return v;
}

class Corpus : public ::testing::TestWithParam<std::string> {};

// Over every corpus domain: add gives a schema-valid domain with all channels,
// differing only by added lines; a second add changes nothing; remove gives
// the input back byte for byte (modulo attribute quote style).
TEST_P(Corpus, AddIsValidIdempotentAndRemovable) {
    const std::string original = readFile(GetParam());
    DomainEditor editor(original);
    const std::string normalised = editor.toString();
    EXPECT_EQ(normalised, original);  // byte for byte

    const unsigned n = std::min(editor.vcpuCount(), kMaxPowerChannels);
    EditSummary added = editor.addPowerChannels({n, fs::path("/var/lib/vmpower/channels")});
    const std::string edited = editor.toString();
    EXPECT_EQ(formatIssues(validator().validate(edited)), "");
    expectOnlyAdditions(normalised, edited);
    EXPECT_TRUE(editor.check(n).complete());
    EXPECT_EQ(editor.check(n).present.size(), n);

    DomainEditor again(edited);
    EditSummary second = again.addPowerChannels({n, fs::path("/var/lib/vmpower/channels")});
    EXPECT_FALSE(second.changed());
    EXPECT_EQ(again.toString(), edited);

    EditSummary removed = again.removePowerChannels();
    EXPECT_EQ(removed.devices.size(), added.devices.size());
    EXPECT_EQ(again.toString(), original);
    EXPECT_EQ(formatIssues(validator().validate(again.toString())), "");
}

std::vector<std::string> corpusFiles() {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(corpusDir())) {
        if (e.path().extension() == ".xml") files.push_back(e.path().string());
    }
    files.push_back(unaddressedFile().lexically_normal().string());
    std::sort(files.begin(), files.end());
    return files;
}

INSTANTIATE_TEST_SUITE_P(Inactive, Corpus, ::testing::ValuesIn(corpusFiles()),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                             std::string s = fs::path(p.param).stem().string();
                             for (char& c : s) {
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             }
                             return s;
                         });

TEST(DomainEditor, AllocatesAroundQemuGaAndSpice) {
    DomainEditor e(corpus("virt-manager-q35-spice.xml"));
    EXPECT_EQ(e.vcpuCount(), 2u);
    EditSummary s = e.addPowerChannels(kTwoInDir);
    ASSERT_EQ(s.devices.size(), 2u);
    ASSERT_TRUE(s.metadata.has_value());
    EXPECT_NE(s.metadata->find("<vmpower:channel name='virtio.serial.port.poweragent.1'/>"),
              std::string::npos);
    EXPECT_EQ(s.devices[0].xml,
              "<channel type='unix'>\n"
              "      <source mode='bind' path='/var/lib/vmpower/channels/debian12.0'/>\n"
              "      <target type='virtio' name='virtio.serial.port.poweragent.0'/>\n"
              "      <address type='virtio-serial' controller='0' bus='0' port='3'/>\n"
              "    </channel>");
    EXPECT_NE(s.devices[1].xml.find("controller='0' bus='0' port='4'"), std::string::npos);
    // Inserted right after the spice channel, indented like its siblings.
    const std::string out = e.toString();
    EXPECT_NE(out.find("port='2'/>\n    </channel>\n    <channel type='unix'>\n      <source"),
              std::string::npos);
}

TEST(DomainEditor, FullControllerGetsANewRecordedController) {
    DomainEditor e(corpus("full-controller.xml"));
    EditSummary s = e.addPowerChannels(kTwoInDir);
    ASSERT_EQ(s.devices.size(), 3u);
    EXPECT_EQ(s.devices[0].type, DeviceChange::Type::Controller);
    EXPECT_EQ(s.devices[0].xml, "<controller type='virtio-serial' index='1'/>");
    EXPECT_NE(s.devices[1].xml.find("controller='1' bus='0' port='1'"), std::string::npos);
    EXPECT_NE(s.devices[2].xml.find("controller='1' bus='0' port='2'"), std::string::npos);
    ASSERT_TRUE(s.metadata.has_value());
    EXPECT_EQ(*s.metadata,
              "<vmpower:provision xmlns:vmpower='urn:vmpower:provision:1'>\n"
              "      <vmpower:controller index='1'/>\n"
              "      <vmpower:channel name='virtio.serial.port.poweragent.0'/>\n"
              "      <vmpower:channel name='virtio.serial.port.poweragent.1'/>\n"
              "    </vmpower:provision>");
    EXPECT_NE(e.toString().find("<uuid>b5e0f7a2-1c39-4d8e-8f6b-2a9c4e7d0f13</uuid>\n  <metadata>"),
              std::string::npos);

    EditSummary r = e.removePowerChannels();
    ASSERT_EQ(r.devices.size(), 3u);
    EXPECT_EQ(r.devices[0].type, DeviceChange::Type::Controller);
    EXPECT_EQ(r.metadata, std::string());
}

TEST(DomainEditor, TwoControllersUseTheFirstFreePorts) {
    DomainEditor e(corpus("two-controllers.xml"));
    EditSummary s = e.addPowerChannels({3, fs::path("/run/vmpower")});
    ASSERT_EQ(s.devices.size(), 3u);
    EXPECT_NE(s.devices[0].xml.find("controller='0' bus='0' port='3'"), std::string::npos);
    EXPECT_NE(s.devices[2].xml.find("controller='0' bus='0' port='5'"), std::string::npos);
}

TEST(DomainEditor, ManyVcpusSpillOntoASecondController) {
    DomainEditor e(corpus("many-vcpus.xml"));
    EXPECT_EQ(e.vcpuCount(), 40u);  // the maximum, not current='8'
    EditSummary s = e.addPowerChannels({40, std::nullopt});
    ASSERT_EQ(s.devices.size(), 41u);
    EXPECT_EQ(s.devices[0].xml, "<controller type='virtio-serial' index='1'/>");
    EXPECT_NE(s.devices[1].xml.find("controller='0' bus='0' port='2'"), std::string::npos);
    EXPECT_NE(s.devices[29].xml.find("controller='0' bus='0' port='30'"), std::string::npos);
    EXPECT_NE(s.devices[30].xml.find("controller='1' bus='0' port='1'"), std::string::npos);
    EXPECT_NE(s.devices[40].xml.find("controller='1' bus='0' port='11'"), std::string::npos);
}

TEST(DomainEditor, HonoursPortsAttribute) {
    DomainEditor e(
        "<domain><name>d</name><devices><controller type='virtio-serial' index='3' ports='3'/>"
        "</devices></domain>");
    EditSummary s = e.addPowerChannels({3, std::nullopt});
    // ports 1 and 2 on controller 3, then a new controller 0.
    ASSERT_EQ(s.devices.size(), 4u);
    EXPECT_EQ(s.devices[0].xml, "<controller type='virtio-serial' index='0'/>");
    EXPECT_NE(s.devices[1].xml.find("controller='3' bus='0' port='1'"), std::string::npos);
    EXPECT_NE(s.devices[2].xml.find("controller='3' bus='0' port='2'"), std::string::npos);
    EXPECT_NE(s.devices[3].xml.find("controller='0' bus='0' port='1'"), std::string::npos);
}

TEST(DomainEditor, LeavesPortsForUnaddressedChannels) {
    DomainEditor e(readFile(unaddressedFile()));
    EditSummary s = e.addPowerChannels(kTwoInDir);
    // libvirt will give the unaddressed qemu-ga channel port 1 of the
    // implicit controller 0.
    ASSERT_EQ(s.devices.size(), 2u);
    EXPECT_NE(s.devices[0].xml.find("controller='0' bus='0' port='2'"), std::string::npos);
    EXPECT_NE(s.devices[1].xml.find("controller='0' bus='0' port='3'"), std::string::npos);
}

TEST(DomainEditor, KeepsExistingChannelsAndAddsTheRest) {
    DomainEditor e(corpus("partially-provisioned.xml"));
    ChannelCheck c = e.check(2);
    EXPECT_EQ(c.present, std::vector<unsigned>{0});
    EXPECT_EQ(c.missing, std::vector<unsigned>{1});
    EditSummary s = e.addPowerChannels({2, fs::path("/elsewhere")});
    EXPECT_EQ(s.kept_channels, std::vector<unsigned>{0});
    ASSERT_EQ(s.devices.size(), 1u);
    EXPECT_NE(s.devices[0].xml.find("path='/elsewhere/half.1'"), std::string::npos);
    EXPECT_NE(s.devices[0].xml.find("port='2'"), std::string::npos);
    EXPECT_EQ(count(e.toString(), "/var/lib/vmpower/channels/half.0"), 1u);
}

TEST(DomainEditor, ExtraChannelsAreReportedAndKept) {
    DomainEditor e(corpus("partially-provisioned.xml"));
    e.addPowerChannels({4, std::nullopt});
    ChannelCheck c = e.check(2);
    EXPECT_EQ(c.extra, (std::vector<unsigned>{2, 3}));
    EXPECT_TRUE(c.complete());
    EXPECT_FALSE(e.addPowerChannels({2, std::nullopt}).changed());
}

TEST(DomainEditor, AutoPathHasNoSourcePath) {
    DomainEditor e(corpus("vcpus-4-qemu-ga.xml"));
    EditSummary s = e.addPowerChannels({4, std::nullopt});
    ASSERT_EQ(s.devices.size(), 4u);
    EXPECT_NE(s.devices[0].xml.find("<source mode='bind'/>"), std::string::npos);
    EXPECT_EQ(e.toString().find("path="), std::string::npos);
}

TEST(DomainEditor, EscapesSocketPaths) {
    DomainEditor e("<domain><name>a&amp;b</name></domain>");
    EditSummary s = e.addPowerChannels({1, fs::path("/srv/it's")});
    EXPECT_NE(s.devices[1].xml.find("path='/srv/it&apos;s/a&amp;b.0'"), std::string::npos);
    EXPECT_EQ(formatIssues(validator().validate(e.toString())).find("path"), std::string::npos);
}

TEST(DomainEditor, UnformattedDocumentStaysUnformatted) {
    const std::string in =
        "<domain><name>m</name><devices><emulator>/x</emulator></devices></domain>";
    DomainEditor e(in);
    e.addPowerChannels({1, fs::path("/d")});
    EXPECT_EQ(
        e.toString(),
        "<domain><name>m</name><metadata><vmpower:provision "
        "xmlns:vmpower='urn:vmpower:provision:1'>"
        "<vmpower:controller index='0'/><vmpower:channel name='virtio.serial.port.poweragent.0'/>"
        "</vmpower:provision></metadata><devices><emulator>/x</emulator>"
        "<controller type='virtio-serial' index='0'/><channel type='unix'><source mode='bind' "
        "path='/d/m.0'/><target type='virtio' name='virtio.serial.port.poweragent.0'/>"
        "<address type='virtio-serial' controller='0' bus='0' "
        "port='1'/></channel></devices></domain>");
    e.removePowerChannels();
    EXPECT_EQ(e.toString(), in);
}

TEST(DomainEditor, RecordFoundWhateverThePrefixAndQuotes) {
    // As libvirt writes metadata back: double quotes; another prefix.
    DomainEditor e(
        "<domain><name>m</name><metadata><p:provision xmlns:p=\"urn:vmpower:provision:1\">"
        "<p:controller index=\"2\"/><p:channel name=\"virtio.serial.port.poweragent.0\"/>"
        "</p:provision></metadata><devices>"
        "<controller type='virtio-serial' index='2'/>"
        "<channel type='unix'><target type='virtio' name='virtio.serial.port.poweragent.0'/>"
        "<address type='virtio-serial' controller='2' bus='0' "
        "port='1'/></channel></devices></domain>");
    EditSummary r = e.removePowerChannels();
    EXPECT_EQ(r.devices.size(), 2u);
    EXPECT_EQ(e.toString(), "<domain><name>m</name></domain>");
}

TEST(DomainEditor, RemoveKeepsARecordedControllerOthersNowUse) {
    DomainEditor e(corpus("full-controller.xml"));
    e.addPowerChannels(kTwoInDir);
    std::string xml = e.toString();
    const std::string anchor = "    <input type='mouse'";
    xml.insert(
        xml.find(anchor),
        "    <channel type='pty'>\n      <target type='virtio' name='org.example.late.0'/>\n"
        "      <address type='virtio-serial' controller='1' bus='0' port='5'/>\n    </channel>\n");
    DomainEditor later(xml);
    EditSummary r = later.removePowerChannels();
    EXPECT_EQ(r.devices.size(), 2u);  // the two channels only
    EXPECT_NE(later.toString().find("<controller type='virtio-serial' index='1'/>"),
              std::string::npos);
    EXPECT_NE(later.toString().find("<vmpower:controller index='1'/>"), std::string::npos);
}

TEST(DomainEditor, RemovesOnlyWhatItRecorded) {
    DomainEditor e(corpus("partially-provisioned.xml"));
    e.addPowerChannels({2, std::nullopt});
    EditSummary r = e.removePowerChannels();
    ASSERT_EQ(r.devices.size(), 1u);  // channel 1; channel 0 was there before
    EXPECT_NE(r.devices[0].xml.find("poweragent.1"), std::string::npos);
    EXPECT_EQ(e.toString(), corpus("partially-provisioned.xml"));
    EXPECT_FALSE(e.removePowerChannels().changed());
}

TEST(DomainEditor, RemoveAllTakesUnrecordedChannelsButNeverAnUnrecordedController) {
    DomainEditor e(corpus("partially-provisioned.xml"));
    EditSummary r = e.removePowerChannels(true);
    ASSERT_EQ(r.devices.size(), 1u);
    EXPECT_NE(e.toString().find("<controller type='virtio-serial' index='0'>"), std::string::npos);
}

TEST(DomainEditor, WithoutNamespaceForSetMetadata) {
    EXPECT_EQ(withoutNamespace("<vmpower:provision xmlns:vmpower='urn:vmpower:provision:1'>"
                               "<vmpower:controller index='1'/></vmpower:provision>"),
              "<provision><controller index='1'/></provision>");
}

TEST(DomainEditor, RejectsBadCounts) {
    DomainEditor e(corpus("virt-install-i440fx-no-channels.xml"));
    const std::string before = e.toString();
    for (unsigned n : {0u, 65u}) {
        try {
            e.addPowerChannels({n, std::nullopt});
            ADD_FAILURE() << n;
        } catch (const DomainEditError& err) {
            EXPECT_EQ(err.kind(), DomainEditError::Kind::TooManyChannels);
        }
    }
    EXPECT_EQ(e.toString(), before);
    EXPECT_NO_THROW(e.addPowerChannels({64, std::nullopt}));
}

TEST(DomainEditor, RejectsLongSocketPaths) {
    DomainEditor e(corpus("virt-install-i440fx-no-channels.xml"));
    const std::string before = e.toString();
    // "/" + 98 chars + "/web01.0" is 107 bytes and fits; 99 chars give 108.
    EXPECT_NO_THROW(
        DomainEditor(before).addPowerChannels({1, fs::path("/" + std::string(98, 'd'))}));
    try {
        e.addPowerChannels({2, fs::path("/" + std::string(99, 'd'))});
        ADD_FAILURE();
    } catch (const DomainEditError& err) {
        EXPECT_EQ(err.kind(), DomainEditError::Kind::SocketPathTooLong);
    }
    EXPECT_EQ(e.toString(), before);
}

TEST(DomainEditor, RejectsWhatIsNotADomain) {
    for (const char* text :
         {"", "<domain>", "<vm/>", "<domain/><domain/>", "text<domain/>",
          "<domain><vcpu>many</vcpu></domain>",
          "<domain><devices><controller type='virtio-serial' index='x'/></devices></domain>"}) {
        try {
            DomainEditor e(text);
            ADD_FAILURE() << text;
        } catch (const DomainEditError& err) {
            EXPECT_EQ(err.kind(), DomainEditError::Kind::Malformed) << text;
        }
    }
    DomainEditor slash("<domain><name>a/b</name></domain>");
    EXPECT_THROW(slash.addPowerChannels({1, fs::path("/d")}), DomainEditError);
    EXPECT_NO_THROW(slash.addPowerChannels({1, std::nullopt}));
}

TEST(DomainEditor, CheckFindsClashesAndEditRefuses) {
    const std::string clashing =
        "<domain><name>c</name><devices>"
        "<channel type='pty'><target type='virtio' name='virtio.serial.port.poweragent.0'/>"
        "<address type='virtio-serial' controller='0' bus='0' port='1'/></channel>"
        "<channel type='unix'><source mode='connect' path='/x'/>"
        "<target type='virtio' name='virtio.serial.port.poweragent.1'/>"
        "<address type='virtio-serial' controller='0' bus='0' port='1'/></channel>"
        "<channel type='unix'><target type='virtio' "
        "name='virtio.serial.port.poweragent.1'/></channel>"
        "<channel type='unix'><target type='virtio' "
        "name='virtio.serial.port.poweragent.x'/></channel>"
        "<channel type='unix'><target type='guestfwd' "
        "name='virtio.serial.port.poweragent.2'/></channel>"
        "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
        "<address type='virtio-serial' controller='0' bus='0' port='31'/></channel>"
        "</devices></domain>";
    DomainEditor e(clashing);
    ChannelCheck c = e.check(4);
    EXPECT_FALSE(c.complete());
    EXPECT_EQ(c.present, (std::vector<unsigned>{0, 1, 2}));
    EXPECT_EQ(c.missing, (std::vector<unsigned>{3}));
    std::string all;
    for (const auto& s : c.clashes) all += s + "\n";
    EXPECT_NE(all.find("type='pty'"), std::string::npos) << all;
    EXPECT_NE(all.find("both use virtio-serial controller 0 port 1"), std::string::npos) << all;
    EXPECT_NE(all.find("two channels are named 'virtio.serial.port.poweragent.1'"),
              std::string::npos);
    EXPECT_NE(all.find("no vCPU number"), std::string::npos) << all;
    EXPECT_NE(all.find("mode='bind'"), std::string::npos) << all;
    EXPECT_NE(all.find("target type='guestfwd'"), std::string::npos) << all;
    EXPECT_NE(all.find("port 31"), std::string::npos) << all;
    try {
        e.addPowerChannels({4, std::nullopt});
        ADD_FAILURE();
    } catch (const DomainEditError& err) {
        EXPECT_EQ(err.kind(), DomainEditError::Kind::Clash);
    }
    EXPECT_EQ(e.toString(), DomainEditor(clashing).toString());
    // remove --all takes out every power channel, damaged ones included.
    e.removePowerChannels(true);
    EXPECT_EQ(count(e.toString(), "poweragent"), 0u);
}

// The editor judges channels by the agent's own verdict (power_channel.h):
// what vmpowerd could not serve is a clash; a missing path is libvirt's to
// choose and not one.
TEST(DomainEditor, CheckUsesTheAgentsPowerChannelVerdict) {
    const std::string name = "virtio.serial.port.poweragent.";
    const std::string long_path = "/" + std::string(kMaxSocketPathBytes, 'p');
    DomainEditor e(
        "<domain><name>v</name><vcpu>4</vcpu><devices>"
        "<channel type='unix'><source mode='bind' path='run/relative'/>"
        "<target type='virtio' name='" +
        name +
        "0'/></channel>"
        "<channel type='unix'><source mode='bind' path='" +
        long_path + "'/><target type='virtio' name='" + name +
        "1'/></channel>"
        "<channel type='unix'><source mode='bind'/>"
        "<target type='virtio' name='" +
        name +
        "2'/></channel>"
        "</devices></domain>");
    ChannelCheck c = e.check(3);
    EXPECT_EQ(c.present, (std::vector<unsigned>{0, 1, 2}));
    ASSERT_EQ(c.clashes.size(), 2u);
    EXPECT_NE(c.clashes[0].find("poweragent.0' has socket path 'run/relative'"), std::string::npos)
        << c.clashes[0];
    EXPECT_NE(c.clashes[1].find("poweragent.1' has a socket path over " +
                                std::to_string(kMaxSocketPathBytes) + " bytes"),
              std::string::npos)
        << c.clashes[1];
}

}  // namespace
}  // namespace vmpower

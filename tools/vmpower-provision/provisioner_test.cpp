#include "provisioner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fake_hypervisor.h"
#include "schema_validator.h"
#include "temp_dir.h"

namespace vmpower::provision {
namespace {

namespace fs = std::filesystem;

std::string corpus(const std::string& name) {
    const char* root = std::getenv("VMPOWER_SOURCE_ROOT");
    std::ifstream in(fs::path(root ? root : ".") / "tests/data/domains/inactive" / name);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

const SchemaValidator& validator() {
    static const SchemaValidator v;
    return v;
}

QemuIdentity me() {
    // Our own user: chown to it works without privileges.
    QemuIdentity id;
    id.user = "+" + std::to_string(::getuid());
    id.group = "+" + std::to_string(::getgid());
    return id;
}

class ProvisionerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        hv.domains["debian12"].config = corpus("virt-manager-q35-spice.xml");
        hv.domains["packed"].config = corpus("full-controller.xml");
    }

    DomainOptions opts(const std::string& domain) {
        DomainOptions o;
        o.domain = domain;
        o.channels.socket_dir = dir / "sockets";
        return o;
    }
    std::vector<fs::path> backups() {
        std::vector<fs::path> r;
        if (fs::exists(dir / "state")) {
            for (auto& e : fs::directory_iterator(dir / "state")) r.push_back(e.path());
        }
        return r;
    }

    // First: the members below use it. Not under /tmp: HostFiles warns there.
    test::TempDir temp{"/var/tmp"};
    const fs::path& dir = temp.path();
    FakeHypervisor hv;
    std::ostringstream out, err;
    HostFiles files{dir / "state", me(), err};
    Provisioner p{hv, files, validator(), out, err};
};

TEST_F(ProvisionerTest, EditDefinesBacksUpAndIsIdempotent) {
    const std::string before = hv.domains["debian12"].config;
    EXPECT_EQ(p.editDomain(opts("debian12")), ExitStatus::Ok) << err.str();
    EXPECT_EQ(hv.calls, std::vector<std::string>{"define"});
    const std::string after = hv.domains["debian12"].config;
    EXPECT_NE(after.find("path='" + (dir / "sockets/debian12.1").string() + "'"),
              std::string::npos);
    EXPECT_TRUE(fs::is_directory(dir / "sockets"));
    EXPECT_EQ(fs::status(dir / "sockets").permissions(),
              fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
    ASSERT_EQ(backups().size(), 1u);
    std::ifstream b(backups()[0]);
    std::ostringstream bs;
    bs << b.rdbuf();
    EXPECT_EQ(bs.str(), before);

    hv.calls.clear();
    EXPECT_EQ(p.editDomain(opts("debian12")), ExitStatus::Ok);
    EXPECT_TRUE(hv.calls.empty());
    EXPECT_NE(out.str().find("nothing to do"), std::string::npos);
    EXPECT_EQ(backups().size(), 1u);

    EXPECT_EQ(p.checkDomain(opts("debian12")), ExitStatus::Ok);
    EXPECT_EQ(p.removeDomain(opts("debian12")), ExitStatus::Ok);
    EXPECT_EQ(hv.domains["debian12"].config, before);
    EXPECT_EQ(p.checkDomain(opts("debian12")), ExitStatus::CheckMissing);
}

TEST_F(ProvisionerTest, ADomainChangedWhileBeingEditedIsNotOverwritten) {
    // Someone edits the domain between our read and our define.
    const std::string theirs =
        corpus("virt-manager-q35-spice.xml") + "<!-- changed by virsh edit meanwhile -->";
    hv.on_read = [&](FakeHypervisor::Domain& d, int read) {
        if (read == 1) d.config = theirs;
    };
    try {
        p.editDomain(opts("debian12"));
        ADD_FAILURE() << "a lost update was allowed";
    } catch (const ProvisionError& e) {
        EXPECT_EQ(e.status(), ExitStatus::ChangedMeanwhile);
        EXPECT_NE(std::string(e.what()).find("nothing changed"), std::string::npos);
    }
    EXPECT_TRUE(hv.calls.empty()) << "nothing defined";
    EXPECT_EQ(hv.domains["debian12"].config, theirs) << "their change stands";
    // The same for remove.
    hv.on_read = nullptr;
    ASSERT_EQ(p.editDomain(opts("debian12")), ExitStatus::Ok);
    const std::string ours = hv.domains["debian12"].config;
    hv.calls.clear();
    hv.on_read = [&, n = 0](FakeHypervisor::Domain& d, int) mutable {
        if (n++ == 1) d.config = ours + "<!-- again -->";
    };
    EXPECT_THROW(p.removeDomain(opts("debian12")), ProvisionError);
    EXPECT_TRUE(hv.calls.empty());
}

TEST_F(ProvisionerTest, DryRunPrintsADiffAndChangesNothing) {
    DomainOptions o = opts("debian12");
    o.dry_run = true;
    EXPECT_EQ(p.editDomain(o), ExitStatus::Ok);
    EXPECT_TRUE(hv.calls.empty());
    EXPECT_FALSE(fs::exists(dir / "sockets"));
    EXPECT_TRUE(backups().empty());
    EXPECT_NE(out.str().find("--- debian12 (inactive XML)\n+++ debian12 (edited)\n@@ "),
              std::string::npos);
    EXPECT_NE(
        out.str().find("+      <target type='virtio' name='virtio.serial.port.poweragent.1'/>"),
        std::string::npos);
}

TEST_F(ProvisionerTest, RunningDomainNeedsLive) {
    hv.domains["debian12"].active = true;
    const std::string before = hv.domains["debian12"].config;
    try {
        p.editDomain(opts("debian12"));
        ADD_FAILURE();
    } catch (const ProvisionError& e) {
        EXPECT_EQ(e.status(), ExitStatus::DomainRunning);
    }
    EXPECT_TRUE(hv.calls.empty());
    EXPECT_TRUE(backups().empty());
    EXPECT_EQ(hv.domains["debian12"].config, before);
}

TEST_F(ProvisionerTest, LiveRefusesWhenANewControllerIsNeeded) {
    hv.domains["packed"].active = true;
    DomainOptions o = opts("packed");
    o.live = true;
    try {
        p.editDomain(o);
        ADD_FAILURE();
    } catch (const ProvisionError& e) {
        EXPECT_EQ(e.status(), ExitStatus::LiveNeedsController);
    }
    EXPECT_TRUE(hv.calls.empty());
    EXPECT_TRUE(backups().empty());
}

TEST_F(ProvisionerTest, LiveAttachesEachChannel) {
    hv.domains["debian12"].active = true;
    DomainOptions o = opts("debian12");
    o.live = true;
    o.channels.auto_path = true;
    try {
        p.editDomain(o);
    } catch (const ProvisionError& e) {
        // The fake does not apply attaches to the config: the post-check
        // finds no channels and restores the definition.
        EXPECT_EQ(e.status(), ExitStatus::LibvirtRefused);
    }
    ASSERT_EQ(hv.calls.size(), 4u);
    EXPECT_EQ(hv.calls[0].rfind("attach <channel type='unix'>", 0), 0u);
    EXPECT_NE(hv.calls[0].find("poweragent.0"), std::string::npos);
    EXPECT_NE(hv.calls[1].find("poweragent.1"), std::string::npos);
    EXPECT_EQ(hv.calls[2].rfind("metadata <vmpower:provision", 0), 0u);
    EXPECT_EQ(hv.calls[3], "define");
}

TEST_F(ProvisionerTest, FailedLiveAttachIsUndone) {
    hv.domains["debian12"].active = true;
    hv.fail_attach_at = 1;  // the second channel
    const std::string before = hv.domains["debian12"].config;
    DomainOptions o = opts("debian12");
    o.live = true;
    try {
        p.editDomain(o);
        ADD_FAILURE();
    } catch (const ProvisionError& e) {
        EXPECT_EQ(e.status(), ExitStatus::LibvirtRefused);
    }
    ASSERT_EQ(hv.calls.size(), 4u);
    EXPECT_EQ(hv.calls[1], "attach-failed");
    EXPECT_EQ(hv.calls[2].rfind("detach <channel", 0), 0u);
    EXPECT_NE(hv.calls[2].find("poweragent.0"), std::string::npos);
    EXPECT_EQ(hv.calls[3], "define");
    EXPECT_EQ(hv.domains["debian12"].config, before);
}

TEST_F(ProvisionerTest, LiveRemoveUnplugsChannelsAndRedefines) {
    DomainOptions o = opts("packed");
    ASSERT_EQ(p.editDomain(o), ExitStatus::Ok);
    hv.domains["packed"].active = true;
    hv.calls.clear();
    o.live = true;
    EXPECT_EQ(p.removeDomain(o), ExitStatus::Ok);
    ASSERT_EQ(hv.calls.size(), 4u);
    EXPECT_EQ(hv.calls[0].rfind("detach <channel", 0), 0u);
    EXPECT_EQ(hv.calls[1].rfind("detach <channel", 0), 0u);
    EXPECT_EQ(hv.calls[2], "metadata ");  // the record goes
    EXPECT_EQ(hv.calls[3], "define");     // the controller leaves the definition only
    EXPECT_EQ(hv.domains["packed"].config, corpus("full-controller.xml"));
}

TEST_F(ProvisionerTest, LibvirtLosingChannelsRestoresTheOriginal) {
    hv.drop_channels_on_define = true;
    const std::string before = hv.domains["debian12"].config;
    try {
        p.editDomain(opts("debian12"));
        ADD_FAILURE();
    } catch (const ProvisionError& e) {
        EXPECT_EQ(e.status(), ExitStatus::LibvirtRefused);
    }
    EXPECT_EQ(hv.domains["debian12"].config, before);
}

TEST_F(ProvisionerTest, FailedDefineLeavesDomain) {
    hv.fail_define = true;
    const std::string before = hv.domains["debian12"].config;
    EXPECT_THROW(p.editDomain(opts("debian12")), ProvisionError);
    EXPECT_EQ(hv.domains["debian12"].config, before);
}

TEST_F(ProvisionerTest, BadInputsHaveTheirOwnStatus) {
    auto statusOf = [&](DomainOptions o) {
        try {
            p.editDomain(o);
        } catch (const ProvisionError& e) {
            return e.status();
        }
        return ExitStatus::Ok;
    };
    EXPECT_EQ(statusOf(opts("nope")), ExitStatus::NoSuchDomain);
    DomainOptions many = opts("debian12");
    many.channels.channels = 65;
    EXPECT_EQ(statusOf(many), ExitStatus::ChannelCount);
    DomainOptions longPath = opts("debian12");
    longPath.channels.socket_dir = "/" + std::string(120, 'x');
    EXPECT_EQ(statusOf(longPath), ExitStatus::SocketPathTooLong);
    hv.domains["broken"].config = "<domain><name>broken</name>";
    EXPECT_EQ(statusOf(opts("broken")), ExitStatus::BadXml);
    hv.domains["clash"].config =
        "<domain type='qemu'><name>clash</name><memory>1</memory><os><type>hvm</type></os><devices>"
        "<channel type='pty'><target type='virtio' "
        "name='virtio.serial.port.poweragent.0'/></channel>"
        "</devices></domain>";
    EXPECT_EQ(statusOf(opts("clash")), ExitStatus::Clash);
    EXPECT_EQ(p.checkDomain(opts("clash")), ExitStatus::CheckClash);
    hv.domains["big"].config = "<domain><name>big</name><vcpu>100</vcpu></domain>";
    EXPECT_EQ(statusOf(opts("big")), ExitStatus::ChannelCount);
    // A schema-invalid result is caught before libvirt sees it.
    hv.domains["invalid"].config = "<domain><name>invalid</name></domain>";
    EXPECT_EQ(statusOf(opts("invalid")), ExitStatus::SchemaInvalid);
    EXPECT_TRUE(hv.calls.empty());
    EXPECT_TRUE(backups().empty());
}

TEST_F(ProvisionerTest, UnwritableStateDirChangesNothing) {
    // A file where the state directory's parent should be: even root cannot
    // create the directory (CI runs as root, so permissions alone would not do).
    std::ofstream(dir / "ro") << "not a directory\n";
    HostFiles ro(dir / "ro/state", me(), err);
    Provisioner q(hv, ro, validator(), out, err);
    const std::string before = hv.domains["debian12"].config;
    try {
        q.editDomain(opts("debian12"));
        ADD_FAILURE();
    } catch (const ProvisionError& e) {
        // Status 5: a file (the backup) cannot be written; EACCES/EROFS give 9.
        EXPECT_EQ(e.status(), ExitStatus::BadXml);
        EXPECT_NE(std::string(e.what()).find((dir / "ro").string()), std::string::npos) << e.what();
    }
    EXPECT_TRUE(hv.calls.empty()) << "no backup, no define";
    EXPECT_EQ(hv.domains["debian12"].config, before);
}

TEST_F(ProvisionerTest, EditFileWritesOutputAtomically) {
    const fs::path in = dir / "in.xml", outFile = dir / "out.xml";
    std::ofstream(in) << corpus("vcpus-4-qemu-ga.xml");
    ChannelOptions c;
    c.auto_path = true;
    EXPECT_EQ(editFile(in, outFile, c, false, validator(), out, err), ExitStatus::Ok);
    std::ifstream r(outFile);
    std::ostringstream s;
    s << r.rdbuf();
    EXPECT_NE(s.str().find("virtio.serial.port.poweragent.3"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir / "out.xml.tmp"));
    EXPECT_THROW(editFile(dir / "missing.xml", outFile, c, false, validator(), out, err),
                 ProvisionError);
}

}  // namespace
}  // namespace vmpower::provision

#include "cli.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "exit_status.h"
#include "fake_hypervisor.h"
#include "temp_dir.h"

namespace vmpower::provision {
namespace {

namespace fs = std::filesystem;

struct CliRun {
    int status;
    std::string out, err;
};

class CliTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::ofstream(dir / "qemu.conf")
            << "user = \"+" << ::getuid() << "\"\ngroup = \"+" << ::getgid() << "\"\n";
        const char* root = std::getenv("VMPOWER_SOURCE_ROOT");
        corpus = fs::path(root ? root : ".") / "tests/data/domains/inactive";
        std::ifstream in(corpus / "vcpus-4-qemu-ga.xml");
        std::ostringstream s;
        s << in.rdbuf();
        fake.domains["dpdk-fwd"].config = s.str();
    }

    CliRun run(std::vector<std::string> args) {
        args.insert(args.begin(), "vmpower-provision");
        std::vector<const char*> argv;
        for (const auto& a : args) argv.push_back(a.c_str());
        std::ostringstream out, err;
        CliEnvironment env;
        env.connect = [this](const std::string& uri) -> std::unique_ptr<Hypervisor> {
            lastUri = uri;
            if (uri == "bad:///") throw ProvisionError(ExitStatus::NoConnection, "no");
            return std::make_unique<Borrowed>(fake);
        };
        env.qemu_conf = dir / "qemu.conf";
        env.out = &out;
        env.err = &err;
        int status = runCli(static_cast<int>(argv.size()), argv.data(), env);
        return {status, out.str(), err.str()};
    }

    // Hands the test's fake to the CLI without giving it away.
    struct Borrowed : Hypervisor {
        explicit Borrowed(FakeHypervisor& f) : fake(f) {}
        std::string inactiveXml(const std::string& d) override { return fake.inactiveXml(d); }
        std::string liveXml(const std::string& d) override { return fake.liveXml(d); }
        bool isActive(const std::string& d) override { return fake.isActive(d); }
        void define(const std::string& x) override { fake.define(x); }
        void attachDevice(const std::string& d, const std::string& x) override {
            fake.attachDevice(d, x);
        }
        void detachDevice(const std::string& d, const std::string& x) override {
            fake.detachDevice(d, x);
        }
        void setProvisionMetadata(const std::string& d, const std::string& x) override {
            fake.setProvisionMetadata(d, x);
        }
        FakeHypervisor& fake;
    };

    test::TempDir temp{"/var/tmp"};  // not /tmp: HostFiles warns there
    const fs::path& dir = temp.path();
    fs::path corpus;
    FakeHypervisor fake;
    std::string lastUri;
};

TEST_F(CliTest, HelpListsExitStatuses) {
    CliRun r = run({"--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("Exit status:"), std::string::npos);
    EXPECT_NE(r.out.find("  21  check: channels clash"), std::string::npos);
    EXPECT_NE(r.out.find("edit-domain"), std::string::npos);
}

TEST_F(CliTest, UsageErrorsAreStatus2) {
    EXPECT_EQ(run({}).status, 2);
    EXPECT_EQ(run({"frobnicate"}).status, 2);
    EXPECT_EQ(run({"edit-domain"}).status, 2);
    EXPECT_EQ(run({"edit-domain", "d", "--channels", "2", "--per-vcpu"}).status, 2);
    EXPECT_EQ(run({"edit-domain", "d", "--socket-dir", "/x", "--auto-path"}).status, 2);
    EXPECT_EQ(run({"edit-domain", "d", "--channels", "-1"}).status, 2);
}

TEST_F(CliTest, EditCheckRemove) {
    const std::string state = (dir / "state").string(), sockets = (dir / "s").string();
    CliRun r = run({"check", "dpdk-fwd", "--state-dir", state});
    EXPECT_EQ(r.status, 20) << r.err;
    EXPECT_NE(r.out.find("missing 0,1,2,3"), std::string::npos) << r.out;
    EXPECT_EQ(lastUri, "qemu:///system");

    r = run({"edit-domain", "dpdk-fwd", "--channels", "2", "--socket-dir", sockets, "--state-dir",
             state, "-c", "test:///default"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(lastUri, "test:///default");
    EXPECT_EQ(run({"check", "dpdk-fwd", "--channels", "2", "--state-dir", state}).status, 0);
    EXPECT_EQ(run({"check", "dpdk-fwd", "--state-dir", state}).status, 20);
    EXPECT_EQ(run({"edit-domain", "dpdk-fwd", "--per-vcpu", "--socket-dir", sockets, "--state-dir",
                   state})
                  .status,
              0);
    EXPECT_EQ(run({"check", "dpdk-fwd", "--state-dir", state}).status, 0);
    EXPECT_EQ(run({"remove", "dpdk-fwd", "--state-dir", state}).status, 0);
    EXPECT_EQ(run({"check", "dpdk-fwd", "--state-dir", state}).status, 20);
}

TEST_F(CliTest, FailureStatuses) {
    const std::string state = (dir / "state").string();
    EXPECT_EQ(run({"edit-domain", "nope", "--state-dir", state}).status, 4);
    EXPECT_EQ(run({"edit-domain", "dpdk-fwd", "-c", "bad:///"}).status, 3);
    EXPECT_EQ(run({"edit-domain", "dpdk-fwd", "--channels", "65", "--state-dir", state}).status, 7);
    EXPECT_EQ(run({"edit-domain", "dpdk-fwd", "--channels", "0", "--state-dir", state}).status, 7);
    EXPECT_EQ(run({"edit-domain", "dpdk-fwd", "--socket-dir", "/" + std::string(100, 'x'),
                   "--state-dir", state})
                  .status,
              8);
    fake.domains["dpdk-fwd"].active = true;
    CliRun r = run({"edit-domain", "dpdk-fwd", "--auto-path", "--state-dir", state});
    EXPECT_EQ(r.status, 6);
    EXPECT_NE(r.err.find("--live"), std::string::npos);
    EXPECT_TRUE(fake.calls.empty());
}

TEST_F(CliTest, EditFile) {
    const std::string out = (dir / "out.xml").string();
    CliRun r = run({"edit-file", (corpus / "no-devices.xml").string(), "-o", out, "--auto-path"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::exists(out));
    r = run({"edit-file", (corpus / "no-devices.xml").string(), "--dry-run", "--channels", "2"});
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("+      <target type='virtio' name='virtio.serial.port.poweragent.1'/>"),
              std::string::npos)
        << r.out;
    std::ofstream(dir / "bad.xml") << "<domain>";
    EXPECT_EQ(run({"edit-file", (dir / "bad.xml").string()}).status, 5);
    EXPECT_EQ(run({"edit-file", (dir / "none.xml").string()}).status, 5);
}

}  // namespace
}  // namespace vmpower::provision

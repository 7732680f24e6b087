#include "peer_verifier.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "temp_dir.h"
#include "unique_fd.h"

namespace vmpower {
namespace {

// One end of a socketpair: SO_PEERCRED names this very process, as a QEMU
// socket names QEMU.
class PeerVerifierTest : public ::testing::Test {
  protected:
    void SetUp() override {
        int fds[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        ours_.reset(fds[0]);
        theirs_.reset(fds[1]);
    }
    std::filesystem::path pidFile(const std::string& text, mode_t mode = 0644) {
        auto file = dir_.path() / "vm.pid";
        std::ofstream(file) << text;
        ::chmod(file.c_str(), mode);
        return file;
    }
    PeerCheck verify() const { return QemuPidPeerVerifier(dir_.path()).verify(ours_.get(), "vm"); }

    test::TempDir dir_;
    UniqueFd ours_, theirs_;
    const std::string self_ = std::to_string(::getpid()) + "\n";
};

TEST_F(PeerVerifierTest, AcceptsTheProcessThePidFileNames) {
    pidFile(self_);
    EXPECT_EQ(verify().verdict, PeerVerdict::Accept) << verify().why;
}

TEST_F(PeerVerifierTest, RetriesWhileThereIsNoPidFile) {
    EXPECT_EQ(verify().verdict, PeerVerdict::Retry);
    pidFile("");
    EXPECT_EQ(verify().verdict, PeerVerdict::Retry) << "libvirt may not have written it yet";
}

TEST_F(PeerVerifierTest, RejectsAnotherPid) {
    pidFile("1\n");
    PeerCheck c = verify();
    EXPECT_EQ(c.verdict, PeerVerdict::Reject);
    EXPECT_NE(c.why.find("not by the domain's QEMU"), std::string::npos) << c.why;
}

TEST_F(PeerVerifierTest, RejectsAPidFileOthersCouldHaveWritten) {
    pidFile(self_, 0666);
    PeerCheck c = verify();
    EXPECT_EQ(c.verdict, PeerVerdict::Reject);
    EXPECT_NE(c.why.find("writable by others"), std::string::npos) << c.why;
    pidFile(self_, 0620);
    EXPECT_EQ(verify().verdict, PeerVerdict::Reject) << "group-writable";
}

TEST_F(PeerVerifierTest, RejectsAPidFileNotOwnedByRoot) {
    auto file = pidFile(self_);
    // CI runs as root; the file must be root's to begin with for this to mean anything.
    ASSERT_EQ(::geteuid(), 0u) << "this test needs root (as CI runs it)";
    ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);
    EXPECT_EQ(verify().verdict, PeerVerdict::Reject);
}

TEST_F(PeerVerifierTest, RejectsASymlinkedPidFile) {
    auto real = dir_.path() / "elsewhere.pid";
    std::ofstream(real) << self_;
    std::filesystem::create_symlink(real, dir_.path() / "vm.pid");
    PeerCheck c = verify();
    EXPECT_EQ(c.verdict, PeerVerdict::Reject);
    EXPECT_NE(c.why.find("symlink"), std::string::npos) << c.why;
}

TEST_F(PeerVerifierTest, RejectsAPidRecycledAfterThePidFileWasWritten) {
    auto file = pidFile(self_);
    // The file dates from an hour before this process started: the pid it
    // names belonged to a process that has since died.
    timespec times[2] = {};
    ::clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= 3600 + 60 * 60 * 24;  // well before this test process
    times[1] = times[0];
    ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
    PeerCheck c = verify();
    EXPECT_EQ(c.verdict, PeerVerdict::Reject);
    EXPECT_NE(c.why.find("recycled"), std::string::npos) << c.why;
}

TEST_F(PeerVerifierTest, RejectsANameThatWalksOutOfThePidDirectory) {
    for (const char* name : {"../vm", "", ".", ".."}) {
        EXPECT_EQ(QemuPidPeerVerifier(dir_.path()).verify(ours_.get(), name).verdict,
                  PeerVerdict::Reject)
            << name;
    }
}

}  // namespace
}  // namespace vmpower

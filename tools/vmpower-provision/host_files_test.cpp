#include "host_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "exit_status.h"
#include "temp_dir.h"

namespace vmpower::provision {
namespace {

namespace fs = std::filesystem;

class HostFilesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        id.user = "+" + std::to_string(::getuid());
        id.group = "+" + std::to_string(::getgid());
    }
    test::TempDir temp{"/var/tmp"};  // not /tmp: HostFiles warns there
    const fs::path& dir = temp.path();
    QemuIdentity id;
    std::ostringstream warnings;
};

TEST_F(HostFilesTest, CreatesSocketDirForQemu) {
    HostFiles f(dir / "state", id, warnings);
    f.ensureSocketDir(dir / "a/b/sockets");
    struct stat st {};
    ASSERT_EQ(::stat((dir / "a/b/sockets").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0750u);
    EXPECT_EQ(st.st_uid, ::getuid());
    EXPECT_TRUE(warnings.str().empty());
    f.ensureSocketDir(dir / "a/b/sockets");  // again: fine
}

TEST_F(HostFilesTest, WarnsUnderTmp) {
    HostFiles f(dir / "state", id, warnings);
    const fs::path tmpDir = "/tmp/vmpower-hostfiles-test-" + std::to_string(::getpid());
    f.ensureSocketDir(tmpDir);
    fs::remove_all(tmpDir);
    EXPECT_NE(warnings.str().find("under /tmp"), std::string::npos);
}

TEST_F(HostFilesTest, UnknownQemuUserIsRefused) {
    id.user = "no-such-user-vmpower";
    HostFiles f(dir / "state", id, warnings);
    EXPECT_THROW(f.ensureSocketDir(dir / "s"), ProvisionError);
    EXPECT_FALSE(fs::exists(dir / "s"));
}

TEST_F(HostFilesTest, BackupsAreKeptApart) {
    HostFiles f(dir / "state", id, warnings);
    fs::path a = f.writeBackup("dom", "<domain>1</domain>");
    fs::path b = f.writeBackup("dom", "<domain>2</domain>");
    EXPECT_NE(a, b);
    std::ifstream in(a);
    std::ostringstream s;
    s << in.rdbuf();
    EXPECT_EQ(s.str(), "<domain>1</domain>");
    EXPECT_EQ(fs::status(a).permissions(), fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace
}  // namespace vmpower::provision

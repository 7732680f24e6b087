#include "qemu_conf.h"

#include <gtest/gtest.h>

namespace vmpower::provision {
namespace {

TEST(QemuConf, CommentedOutMeansDefaults) {
    QemuIdentity id = parseQemuConf(
        "# Some examples of valid values are:\n#       user = \"qemu\"   # A user named \"qemu\"\n"
        "#user = \"libvirt-qemu\"\n#group = \"libvirt-qemu\"\n");
    EXPECT_EQ(id.user, "libvirt-qemu");
    EXPECT_EQ(id.group, "libvirt-qemu");
}

TEST(QemuConf, ReadsUserAndGroup) {
    QemuIdentity id = parseQemuConf("  user = \"qemu\"  # ours\ngroup=\"kvm\"\nuser_x = \"no\"\n");
    EXPECT_EQ(id.user, "qemu");
    EXPECT_EQ(id.group, "kvm");
}

TEST(QemuConf, MissingFileGivesDefaults) {
    EXPECT_EQ(readQemuConf("/nonexistent/qemu.conf").user, "libvirt-qemu");
}

}  // namespace
}  // namespace vmpower::provision

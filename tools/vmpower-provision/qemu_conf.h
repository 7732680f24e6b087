#pragma once
// The user and group QEMU runs as, from libvirt's qemu.conf (`user = "..."`,
// `group = "..."`). Commented-out settings mean libvirt's built-in defaults,
// which on Debian are libvirt-qemu:libvirt-qemu (libvirt's own directories
// under /var/lib/libvirt/qemu are owned so).

#include <filesystem>
#include <string>
#include <string_view>

namespace vmpower::provision {

inline constexpr const char* kQemuConf = "/etc/libvirt/qemu.conf";

struct QemuIdentity {
    std::string user = "libvirt-qemu";
    std::string group = "libvirt-qemu";
};

QemuIdentity parseQemuConf(std::string_view text);
// A missing or unreadable file gives the defaults.
QemuIdentity readQemuConf(const std::filesystem::path& path = kQemuConf);

}  // namespace vmpower::provision

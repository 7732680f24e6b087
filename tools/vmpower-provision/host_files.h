#pragma once
// The host side of provisioning: the channel socket directory (QEMU must be
// able to create sockets in it) and backups of domain XML before a change.

#include <sys/types.h>

#include <filesystem>
#include <ostream>
#include <string>

#include "qemu_conf.h"

namespace vmpower::provision {

inline constexpr const char* kDefaultStateDir = "/var/lib/vmpower/provision";
inline constexpr const char* kDefaultSocketDir = "/var/lib/vmpower/channels";

class HostFiles {
  public:
    HostFiles(std::filesystem::path state_dir, QemuIdentity qemu, std::ostream& warnings);

    // Creates `dir` (and missing parents, root-owned 0755) with the QEMU user
    // and group as owner, mode 0750. An existing directory is left as it is,
    // with a warning when QEMU may not be able to create sockets in it.
    // Warns when `dir` lies under /tmp. Throws ProvisionError.
    void ensureSocketDir(const std::filesystem::path& dir);

    // Writes `xml` to <state_dir>/<domain>.<UTC time>.xml (mode 0600, synced)
    // and returns the path. Throws ProvisionError.
    std::filesystem::path writeBackup(const std::string& domain, const std::string& xml);

  private:
    void resolveQemu(uid_t& uid, gid_t& gid) const;
    std::filesystem::path state_dir_;
    QemuIdentity qemu_;
    std::ostream& warnings_;
};

}  // namespace vmpower::provision

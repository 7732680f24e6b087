#include "host_files.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <ctime>

#include "exit_status.h"
#include "system_error.h"

namespace vmpower::provision {
namespace fs = std::filesystem;

namespace {

// "+N" means a numeric id in qemu.conf.
bool numericId(const std::string& s, unsigned& out) {
    if (s.size() < 2 || s[0] != '+') return false;
    auto [end, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

void makeDirs(const fs::path& dir, mode_t mode) {
    fs::path partial;
    for (const fs::path& part : dir) {
        partial /= part;
        if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
            throw ProvisionError(SystemError(partial, "create", errno));
        }
    }
}

}  // namespace

HostFiles::HostFiles(fs::path state_dir, QemuIdentity qemu, std::ostream& warnings)
    : state_dir_(std::move(state_dir)), qemu_(std::move(qemu)), warnings_(warnings) {}

void HostFiles::resolveQemu(uid_t& uid, gid_t& gid) const {
    unsigned id = 0;
    if (numericId(qemu_.user, id)) {
        uid = id;
    } else if (const passwd* pw = ::getpwnam(qemu_.user.c_str())) {
        uid = pw->pw_uid;
    } else {
        throw ProvisionError(ExitStatus::PermissionDenied,
                             "QEMU user '" + qemu_.user + "' (from qemu.conf) does not exist");
    }
    if (numericId(qemu_.group, id)) {
        gid = id;
    } else if (const group* gr = ::getgrnam(qemu_.group.c_str())) {
        gid = gr->gr_gid;
    } else {
        throw ProvisionError(ExitStatus::PermissionDenied,
                             "QEMU group '" + qemu_.group + "' (from qemu.conf) does not exist");
    }
}

void HostFiles::ensureSocketDir(const fs::path& dir) {
    const fs::path norm = dir.lexically_normal();
    if (norm == "/tmp" || norm.string().rfind("/tmp/", 0) == 0) {
        warnings_ << "warning: " << norm.string()
                  << " lies under /tmp, which is emptied at reboot: the domain will not start "
                     "until the directory is created again\n";
    }
    uid_t uid = 0;
    gid_t gid = 0;
    resolveQemu(uid, gid);
    struct stat st {};
    if (::stat(norm.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            throw ProvisionError(ExitStatus::BadXml,
                                 norm.string() + " exists and is not a directory");
        }
        const bool qemuWrites = (st.st_uid == uid && (st.st_mode & S_IWUSR)) ||
                                (st.st_gid == gid && (st.st_mode & S_IWGRP)) ||
                                (st.st_mode & S_IWOTH) || uid == 0;
        if (!qemuWrites) {
            warnings_ << "warning: " << norm.string() << " exists but QEMU (" << qemu_.user << ":"
                      << qemu_.group << ") may not create sockets in it\n";
        }
        return;
    }
    if (norm.has_parent_path()) makeDirs(norm.parent_path(), 0755);
    if (::mkdir(norm.c_str(), 0750) != 0 && errno != EEXIST) {
        throw ProvisionError(SystemError(norm, "create", errno));
    }
    if (::chown(norm.c_str(), uid, gid) != 0) {
        const int err = errno;
        ::rmdir(norm.c_str());
        throw ProvisionError(
            SystemError(norm, "give it to " + qemu_.user + ":" + qemu_.group, err));
    }
}

fs::path HostFiles::writeBackup(const std::string& domain, const std::string& xml) {
    makeDirs(state_dir_, 0700);
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    for (unsigned attempt = 0; attempt < 100; ++attempt) {
        std::string name = domain + "." + stamp;
        if (attempt > 0) name += "-" + std::to_string(attempt);
        const fs::path path = state_dir_ / (name + ".xml");
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) throw ProvisionError(SystemError(path, "write the backup", errno));
        if (const int err = writeAll(fd, xml); err != 0) {
            ::close(fd);
            ::unlink(path.c_str());
            throw ProvisionError(SystemError(path, "write the backup", err));
        }
        // The backup must be on disk before libvirt's copy changes.
        if (::fsync(fd) != 0 || ::close(fd) != 0) {
            throw ProvisionError(SystemError(path, "sync the backup", errno));
        }
        return path;
    }
    throw ProvisionError(ExitStatus::Internal, "too many backups of " + domain + " this second");
}

}  // namespace vmpower::provision

#include "qemu_pid_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "unique_fd.h"

namespace vmpower {

QemuPidFile readQemuPidFile(const std::filesystem::path& pid_dir, std::string_view domain_name) {
    QemuPidFile out;
    // A name with '/' would walk out of pid_dir; libvirt forbids it anyway.
    if (domain_name.find('/') != std::string_view::npos || domain_name.empty() ||
        domain_name == "." || domain_name == "..") {
        out.status = QemuPidFile::Status::Untrusted;
        out.why = "domain name unusable as a pid file name";
        return out;
    }
    const auto path = pid_dir / (std::string(domain_name) + ".pid");
    out.file = path.string();
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!file) {
        if (errno == ENOENT) {
            out.why = "no " + out.file + " yet";
            return out;
        }
        out.status = QemuPidFile::Status::Untrusted;
        out.why = out.file + ": " + std::strerror(errno) + " (a symlink is not believed)";
        return out;
    }
    struct stat st {};
    if (::fstat(file.get(), &st) < 0 || !S_ISREG(st.st_mode)) {
        out.status = QemuPidFile::Status::Untrusted;
        out.why = out.file + " is not a regular file";
        return out;
    }
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        out.status = QemuPidFile::Status::Untrusted;
        out.why = out.file +
                  " is not owned by root or is writable by others: "
                  "anybody could have written it";
        return out;
    }
    char buf[32] = {};
    ssize_t n = ::read(file.get(), buf, sizeof buf - 1);
    long pid = 0;
    auto [end, ec] = std::from_chars(buf, buf + (n > 0 ? n : 0), pid);
    if (n <= 0 || ec != std::errc() || pid <= 0 || (end < buf + n && *end != '\n')) {
        out.why = "no QEMU pid in " + out.file + " yet";
        return out;
    }
    out.status = QemuPidFile::Status::Read;
    out.pid = static_cast<pid_t>(pid);
    out.written = st.st_mtim;
    return out;
}

}  // namespace vmpower

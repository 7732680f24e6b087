#include "peer_verifier.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "unique_fd.h"

namespace vmpower {

namespace {

// Seconds since boot at which `pid` started (field 22 of /proc/<pid>/stat).
std::optional<double> processStartSinceBoot(const std::filesystem::path& proc_root, pid_t pid) {
    std::ifstream in(proc_root / std::to_string(pid) / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // comm (field 2) may hold spaces and ')': fields resume after the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(stat.substr(close + 1));
    std::string field;
    for (int i = 3; i <= 22; ++i) {  // field 3 is the state
        if (!(fields >> field)) return std::nullopt;
    }
    unsigned long long ticks = 0;
    auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), ticks);
    if (ec != std::errc() || end != field.data() + field.size()) return std::nullopt;
    long hz = ::sysconf(_SC_CLK_TCK);
    return hz > 0 ? std::optional<double>(static_cast<double>(ticks) / static_cast<double>(hz))
                  : std::nullopt;
}

// A wall-clock time as seconds since boot.
double sinceBoot(const timespec& wall) {
    timespec now_wall{}, now_boot{};
    ::clock_gettime(CLOCK_REALTIME, &now_wall);
    ::clock_gettime(CLOCK_BOOTTIME, &now_boot);
    auto secs = [](const timespec& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
    };
    return secs(wall) - (secs(now_wall) - secs(now_boot));
}

// libvirt writes the pid file after it forks QEMU. Clock ticks and clock
// adjustments blur the comparison; a recycled pid starts after the file by
// far more than this.
constexpr double kStartSlackSeconds = 1.0;

}  // namespace

PeerCheck QemuPidPeerVerifier::verify(int fd, std::string_view domain_name) const {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        return {PeerVerdict::Retry, std::string("SO_PEERCRED: ") + std::strerror(errno)};
    }
    // A name with '/' would walk out of pid_dir; libvirt forbids it anyway.
    if (domain_name.find('/') != std::string_view::npos || domain_name.empty() ||
        domain_name == "." || domain_name == "..") {
        return {PeerVerdict::Reject, "domain name unusable as a pid file name"};
    }
    const auto pid_file = pid_dir_ / (std::string(domain_name) + ".pid");
    UniqueFd file(::open(pid_file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!file) {
        if (errno == ENOENT) return {PeerVerdict::Retry, "no " + pid_file.string() + " yet"};
        return {PeerVerdict::Reject,
                pid_file.string() + ": " + std::strerror(errno) + " (a symlink is not believed)"};
    }
    struct stat st {};
    if (::fstat(file.get(), &st) < 0 || !S_ISREG(st.st_mode)) {
        return {PeerVerdict::Reject, pid_file.string() + " is not a regular file"};
    }
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return {PeerVerdict::Reject, pid_file.string() +
                                         " is not owned by root or is writable by others: "
                                         "anybody could have written it"};
    }
    char buf[32] = {};
    ssize_t n = ::read(file.get(), buf, sizeof buf - 1);
    long qemu_pid = 0;
    auto [end, ec] = std::from_chars(buf, buf + (n > 0 ? n : 0), qemu_pid);
    if (n <= 0 || ec != std::errc() || qemu_pid <= 0 || (end < buf + n && *end != '\n')) {
        return {PeerVerdict::Retry, "no QEMU pid in " + pid_file.string() + " yet"};
    }
    if (cred.pid != static_cast<pid_t>(qemu_pid)) {
        return {PeerVerdict::Reject, "socket is served by pid " + std::to_string(cred.pid) +
                                         ", not by the domain's QEMU (pid " +
                                         std::to_string(qemu_pid) + ")"};
    }
    auto started = processStartSinceBoot(proc_root_, cred.pid);
    if (!started) {
        return {PeerVerdict::Retry,
                "cannot read the start time of pid " + std::to_string(cred.pid)};
    }
    if (*started > sinceBoot(st.st_mtim) + kStartSlackSeconds) {
        return {PeerVerdict::Reject, "pid " + std::to_string(cred.pid) + " started after " +
                                         pid_file.string() +
                                         " was written: a recycled pid, not the domain's QEMU"};
    }
    return {PeerVerdict::Accept, {}};
}

}  // namespace vmpower

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

#include "qemu_pid_file.h"

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
    const QemuPidFile pid_file = readQemuPidFile(pid_dir_, domain_name);
    if (pid_file.status == QemuPidFile::Status::NotYet) return {PeerVerdict::Retry, pid_file.why};
    if (pid_file.status == QemuPidFile::Status::Untrusted) {
        return {PeerVerdict::Reject, pid_file.why};
    }
    const pid_t qemu_pid = pid_file.pid;
    if (cred.pid != qemu_pid) {
        return {PeerVerdict::Reject, "socket is served by pid " + std::to_string(cred.pid) +
                                         ", not by the domain's QEMU (pid " +
                                         std::to_string(qemu_pid) + ")"};
    }
    auto started = processStartSinceBoot(proc_root_, cred.pid);
    if (!started) {
        return {PeerVerdict::Retry,
                "cannot read the start time of pid " + std::to_string(cred.pid)};
    }
    if (*started > sinceBoot(pid_file.written) + kStartSlackSeconds) {
        return {PeerVerdict::Reject, "pid " + std::to_string(cred.pid) + " started after " +
                                         pid_file.file +
                                         " was written: a recycled pid, not the domain's QEMU"};
    }
    return {PeerVerdict::Accept, {}};
}

}  // namespace vmpower

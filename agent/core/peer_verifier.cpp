#include "peer_verifier.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace vmpower {

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
    auto pid_file = pid_dir_ / (std::string(domain_name) + ".pid");
    std::ifstream in(pid_file);
    long qemu_pid = 0;
    if (!in || !(in >> qemu_pid) || qemu_pid <= 0) {
        return {PeerVerdict::Retry, "no QEMU pid in " + pid_file.string() + " yet"};
    }
    if (cred.pid != static_cast<pid_t>(qemu_pid)) {
        return {PeerVerdict::Reject, "socket is served by pid " + std::to_string(cred.pid) +
                                         ", not by the domain's QEMU (pid " +
                                         std::to_string(qemu_pid) + ")"};
    }
    return {PeerVerdict::Accept, {}};
}

}  // namespace vmpower

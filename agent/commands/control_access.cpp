#include "control_access.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace vmpower {

std::optional<ControlPeer> controlPeerOf(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return std::nullopt;
    ControlPeer peer{cred.pid, cred.uid, {cred.gid}};
    // Supplementary groups as they were when the peer connected.
    std::vector<gid_t> groups(64);
    for (int attempt = 0; attempt < 4; ++attempt) {
        len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
            groups.resize(len / sizeof(gid_t));
            peer.gids.insert(peer.gids.end(), groups.begin(), groups.end());
            return peer;
        }
        if (errno != ERANGE) return std::nullopt;
        groups.resize(len / sizeof(gid_t) + 1);  // the kernel says how many
    }
    return std::nullopt;
}

std::optional<ControlAccess> controlAccessFor(const ControlPeer& peer,
                                              const ControlGroups& groups) {
    auto member = [&](std::optional<gid_t> g) {
        return g && std::find(peer.gids.begin(), peer.gids.end(), *g) != peer.gids.end();
    };
    if (peer.uid == 0 || member(groups.operators)) return ControlAccess::Full;
    if (member(groups.readers)) return ControlAccess::ReadOnly;
    return std::nullopt;
}

std::string describePeer(const ControlPeer& peer) {
    std::string gids;
    for (gid_t g : peer.gids) gids += (gids.empty() ? "" : ",") + std::to_string(g);
    return "uid " + std::to_string(peer.uid) + " (gids " + gids + ", pid " +
           std::to_string(peer.pid) + ")";
}

}  // namespace vmpower

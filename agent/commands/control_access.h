#pragma once
// Who may use the control socket. The socket is a door into a root daemon:
// every client is identified by SO_PEERCRED (+ SO_PEERGROUPS) when it
// connects, never by anything it says.
//   root, or a member of the operator group   -> every command
//   a member of the read-only group           -> status, show-*, list-*
//   anybody else                               -> refused, logged

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace vmpower {

enum class ControlAccess { Full, ReadOnly };

struct ControlPeer {
    pid_t pid = 0;
    uid_t uid = 0;
    std::vector<gid_t> gids;  // primary first, then supplementary
};

// The configured groups (agent.control_operator_group / control_reader_group).
struct ControlGroups {
    std::optional<gid_t> operators;
    std::optional<gid_t> readers;
    bool any() const { return operators || readers; }
};

// nullopt when the peer cannot be identified (it is refused then).
std::optional<ControlPeer> controlPeerOf(int connected_fd);

// nullopt: refused.
std::optional<ControlAccess> controlAccessFor(const ControlPeer& peer, const ControlGroups& groups);

// "uid 1000 (gids 1000,27)": for refusals and log lines.
std::string describePeer(const ControlPeer& peer);

}  // namespace vmpower

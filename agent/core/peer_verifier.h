#pragma once
// The agent runs as root and connects wherever a domain's XML points, so a
// crafted XML could aim it at some other host socket (confused deputy).
// A channel is only used when the process serving it is that domain's QEMU.

#include <filesystem>
#include <string>
#include <string_view>

namespace vmpower {

enum class PeerVerdict { Accept, Reject, Retry };

struct PeerCheck {
    PeerVerdict verdict;
    std::string why;  // for the log line
};

class PeerVerifier {
  public:
    virtual ~PeerVerifier() = default;
    virtual PeerCheck verify(int connected_fd, std::string_view domain_name) const = 0;
};

// Compares SO_PEERCRED's pid with the pid libvirt's QEMU driver records for
// the domain (<pid_dir>/<name>.pid). The pid file is only believed when it
// is a regular file (not a symlink) owned by root and writable by nobody
// else, and the process with that pid started before the file was written:
// a pid recycled after QEMU died is a different process. No pid file yet:
// Retry (QEMU may still be starting).
class QemuPidPeerVerifier final : public PeerVerifier {
  public:
    explicit QemuPidPeerVerifier(std::filesystem::path pid_dir,
                                 std::filesystem::path proc_root = "/proc")
        : pid_dir_(std::move(pid_dir)), proc_root_(std::move(proc_root)) {}
    PeerCheck verify(int connected_fd, std::string_view domain_name) const override;

  private:
    std::filesystem::path pid_dir_;
    std::filesystem::path proc_root_;
};

// verify_channel_peer: false (tests on libvirt's test driver play QEMU).
class TrustingPeerVerifier final : public PeerVerifier {
  public:
    PeerCheck verify(int, std::string_view) const override { return {PeerVerdict::Accept, {}}; }
};

}  // namespace vmpower

#pragma once
// vmpower-provision's exit statuses: one per failure class, so scripts can
// tell "nothing to do" from "refused" from "broken". Documented in --help and
// docs/provisioning.md from the table below.

#include <cerrno>
#include <stdexcept>
#include <string>

#include "power_channel.h"
#include "system_error.h"

namespace vmpower::provision {

// The texts below spell the AF_UNIX limit out; they follow the one definition.
static_assert(kMaxSocketPathBytes == 107, "update the SocketPathTooLong texts");

enum class ExitStatus : int {
    Ok = 0,                    // done, or nothing to do; check: complete
    Internal = 1,              // unexpected error (a bug)
    Usage = 2,                 // bad command line
    NoConnection = 3,          // cannot connect to libvirt
    NoSuchDomain = 4,          // unknown domain
    BadXml = 5,                // malformed XML, not a domain, unreadable or unwritable file
    DomainRunning = 6,         // the domain runs and --live was not given
    ChannelCount = 7,          // 0 or more than 64 channels
    SocketPathTooLong = 8,     // a socket path over 107 bytes (AF_UNIX)
    PermissionDenied = 9,      // libvirt, the state directory or the socket directory said no
    SchemaInvalid = 10,        // the edited XML fails libvirt's RelaxNG schema
    Clash = 11,                // the domain's channels conflict already: fix them first
    LibvirtRefused = 12,       // libvirt refused the change; the domain is as it was
    RollbackFailed = 13,       // a live change failed and could not be fully undone
    LiveNeedsController = 14,  // --live needs a new controller: libvirt cannot hot-plug one
    ChangedMeanwhile = 15,     // the definition changed while it was edited: nothing changed
    CheckMissing = 20,         // check: some power channels are missing
    CheckClash = 21,           // check: channels clash (wins over CheckMissing)
};

struct ExitStatusInfo {
    ExitStatus status;
    const char* meaning;
};

inline constexpr ExitStatusInfo kExitStatuses[] = {
    {ExitStatus::Ok, "success, nothing to do, or (check) every channel present"},
    {ExitStatus::Internal, "unexpected internal error"},
    {ExitStatus::Usage, "bad command line"},
    {ExitStatus::NoConnection, "cannot connect to libvirt"},
    {ExitStatus::NoSuchDomain, "no such domain"},
    {ExitStatus::BadXml, "malformed domain XML, or a file cannot be read or written"},
    {ExitStatus::DomainRunning, "the domain is running: use --live"},
    {ExitStatus::ChannelCount, "channel count not in 1..64"},
    {ExitStatus::SocketPathTooLong, "a socket path is longer than 107 bytes"},
    {ExitStatus::PermissionDenied, "permission denied (libvirt, state or socket directory)"},
    {ExitStatus::SchemaInvalid, "the edited XML fails libvirt's schema"},
    {ExitStatus::Clash, "the domain's channels already conflict"},
    {ExitStatus::LibvirtRefused, "libvirt refused the change; the domain is unchanged"},
    {ExitStatus::RollbackFailed, "a live change failed and was not fully undone"},
    {ExitStatus::LiveNeedsController,
     "--live needs a new virtio-serial controller, which cannot be hot-plugged"},
    {ExitStatus::ChangedMeanwhile,
     "the domain's definition changed while it was being edited; nothing changed"},
    {ExitStatus::CheckMissing, "check: power channels missing"},
    {ExitStatus::CheckClash, "check: channels clash"},
};

std::string exitStatusTable();  // for --help

// Failures carry the exit status they end the program with.
class ProvisionError : public std::runtime_error {
  public:
    ProvisionError(ExitStatus status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    // A host file (state or socket directory, backup) the system refused:
    // SystemError's text; PermissionDenied when its errno says so (EACCES,
    // EPERM, EROFS), otherwise BadXml, the status of files that cannot be
    // read or written.
    explicit ProvisionError(const SystemError& e)
        : ProvisionError(e.error() == EACCES || e.error() == EPERM || e.error() == EROFS
                             ? ExitStatus::PermissionDenied
                             : ExitStatus::BadXml,
                         e.what()) {}
    ExitStatus status() const { return status_; }

  private:
    ExitStatus status_;
};

}  // namespace vmpower::provision

#pragma once
// The pid libvirt's QEMU driver records for a running domain
// (<pid_dir>/<name>.pid). Believed only when it is a regular file (not a
// symlink) owned by root and writable by nobody else: the agent runs as
// root and acts on that pid.

#include <sys/types.h>
#include <time.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace vmpower {

struct QemuPidFile {
    enum class Status {
        Read,       // pid and written are set
        NotYet,     // no file, or no pid in it yet: QEMU may still be starting
        Untrusted,  // a file that must not be believed (or a name unusable as one)
    };
    Status status = Status::NotYet;
    pid_t pid = 0;
    timespec written{};  // the file's mtime
    std::string file;    // the path, for messages
    std::string why;     // for NotYet and Untrusted
};

QemuPidFile readQemuPidFile(const std::filesystem::path& pid_dir, std::string_view domain_name);

}  // namespace vmpower

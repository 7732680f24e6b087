#pragma once
// One vmpowerd per state directory. A second agent on the same directory
// would restore the restore journal under the first one's feet and take
// over its control socket; it is refused before it touches anything, with
// the first one's pid. The lock is flock(2) on <state_dir>/vmpowerd.lock,
// so it goes with the process however it ends (no stale lock after a
// crash); the file holds the holder's pid for the message.

#include <sys/types.h>

#include <filesystem>

#include "unique_fd.h"
#include "verdict.h"

namespace vmpower {

class InstanceLock {
  public:
    static constexpr const char* kFileName = "vmpowerd.lock";

    // Takes the lock (creating the directory and the file as needed).
    // Refused: another process holds it (the reason names its pid), or the
    // lock file is not a regular file. Throws SystemError when the
    // directory or file cannot be used at all.
    static Checked<InstanceLock> take(const std::filesystem::path& state_dir);

    InstanceLock(InstanceLock&&) noexcept = default;
    InstanceLock& operator=(InstanceLock&&) noexcept = default;

  private:
    explicit InstanceLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace vmpower

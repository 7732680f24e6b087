#include "instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "system_error.h"

namespace vmpower {

namespace {

// The pid the holder wrote, as text ("" when unreadable).
std::string holderPid(int fd) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid;
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid += buf[i];
    return pid;
}

}  // namespace

Checked<InstanceLock> InstanceLock::take(const std::filesystem::path& state_dir) {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec) throw SystemError(state_dir, "create the state directory", ec.value());
    const std::filesystem::path file = state_dir / kFileName;
    // O_NONBLOCK: a FIFO planted at the name must not hang the start.
    UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644));
    if (!fd) {
        if (errno == ELOOP) {
            return Checked<InstanceLock>::refused(file.string() +
                                                  ": is a symbolic link; refusing to use it");
        }
        throw SystemError(file, "open", errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw SystemError(file, "stat", errno);
    if (!S_ISREG(st.st_mode)) {
        return Checked<InstanceLock>::refused(file.string() +
                                              ": is not a regular file; refusing to use it");
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) throw SystemError(file, "lock", errno);
        const std::string pid = holderPid(fd.get());
        return Checked<InstanceLock>::refused(
            "another vmpowerd " +
            (pid.empty() ? std::string("(pid unknown)") : "(pid " + pid + ")") +
            " runs on the state directory " + state_dir.string() + "; stop it first");
    }
    const std::string mine = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) != 0) throw SystemError(file, "truncate", errno);
    if (const int err = ::pwrite(fd.get(), mine.data(), mine.size(), 0) < 0 ? errno : 0; err != 0) {
        throw SystemError(file, "write", err);
    }
    return InstanceLock(std::move(fd));
}

}  // namespace vmpower

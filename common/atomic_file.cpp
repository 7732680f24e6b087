#include "atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "system_error.h"

namespace vmpower {

namespace {

[[noreturn]] void fail(const std::filesystem::path& tmp, const char* what, int err) {
    ::unlink(tmp.c_str());
    throw SystemError(tmp, what, err);
}

}  // namespace

void replaceFileAtomically(const std::filesystem::path& file, std::string_view content,
                           mode_t mode) {
    const std::filesystem::path tmp = file.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) throw SystemError(tmp, "create", errno);
    if (const int err = writeAll(fd, content); err != 0) {
        ::close(fd);
        fail(tmp, "write", err);
    }
    // The mode asked for, whatever the umask made of it.
    if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        fail(tmp, "sync", err);
    }
    if (::close(fd) != 0) fail(tmp, "close", errno);
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw SystemError(tmp, "rename to " + file.string(), err);
    }
}

}  // namespace vmpower

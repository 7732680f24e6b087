#include "atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
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
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
        throw SystemError(tmp, "remove the old temporary file", errno);
    }
    const int fd = ::open(tmp.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
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

void replaceStateFile(const std::filesystem::path& file, std::string_view content, mode_t mode) {
    struct stat st {};
    if (::lstat(file.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            throw std::runtime_error(file.string() +
                                     ": is a symbolic link; refusing to replace it (remove it)");
        }
        if (!S_ISREG(st.st_mode)) {
            throw std::runtime_error(file.string() +
                                     ": is not a regular file; refusing to replace it (remove it)");
        }
    } else if (errno != ENOENT) {
        throw SystemError(file, "stat", errno);
    }
    // Whatever is planted in between is replaced by the rename, never
    // followed nor opened.
    replaceFileAtomically(file, content, mode);
}

std::optional<std::string> readStateFile(const std::filesystem::path& file, std::size_t max_bytes) {
    return readRegularFile(file, max_bytes, FileLinks::Refuse);
}

std::optional<std::string> readRegularFile(const std::filesystem::path& file, std::size_t max_bytes,
                                           FileLinks links) {
    const int nofollow = links == FileLinks::Refuse ? O_NOFOLLOW : 0;
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | nofollow);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        if (errno == ELOOP && links == FileLinks::Refuse) {
            throw std::runtime_error(file.string() + ": is a symbolic link; refusing to read it");
        }
        throw SystemError(file, "open", errno);
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw SystemError(file, "stat", errno);
    if (!S_ISREG(st.st_mode)) {
        throw std::runtime_error(file.string() + ": is not a regular file; refusing to read it");
    }
    if (static_cast<std::size_t>(st.st_size) > max_bytes) {
        throw std::runtime_error(file.string() + ": " + std::to_string(st.st_size) +
                                 " bytes, more than the " + std::to_string(max_bytes) +
                                 " allowed here");
    }
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SystemError(file, "read", errno);
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > max_bytes) throw std::runtime_error(file.string() + ": grew while read");
    }
    return text;
}

}  // namespace vmpower

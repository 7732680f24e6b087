#include "system_error.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vmpower {

std::string systemErrorText(const std::filesystem::path& path, std::string_view what, int err) {
    std::string text;
    if (!path.empty()) text = path.string() + ": ";
    text += "cannot ";
    text += what;
    text += ": ";
    text += std::strerror(err);
    return text;
}

SystemError::SystemError(const std::filesystem::path& path, std::string_view what, int err)
    : std::runtime_error(systemErrorText(path, what, err)), errno_(err) {}

SystemError::SystemError(std::string_view what, int err)
    : std::runtime_error(systemErrorText({}, what, err)), errno_(err) {}

int writeAll(int fd, std::string_view data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        done += static_cast<std::size_t>(n);
    }
    return 0;
}

}  // namespace vmpower

#include "control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace vmpower {

namespace {
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};
}  // namespace

nlohmann::json controlRequest(const std::filesystem::path& socket, const nlohmann::json& request,
                              std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket.native().size() >= sizeof addr.sun_path) {
        throw ControlError("control socket path too long: " + socket.string());
    }
    std::memcpy(addr.sun_path, socket.c_str(), socket.native().size());
    Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (s.fd < 0 || ::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
        throw ControlError("cannot reach vmpowerd at " + socket.string() + ": " +
                           std::strerror(errno) + " (is it running? see --config)");
    }
    std::string line = request.dump() + "\n";
    for (std::size_t off = 0; off < line.size();) {
        ssize_t n = ::send(s.fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n < 0) throw ControlError(std::string("send: ") + std::strerror(errno));
        off += static_cast<std::size_t>(n);
    }
    std::string in;
    char buf[4096];
    while (in.find('\n') == std::string::npos) {
        pollfd p{s.fd, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (r == 0) throw ControlError("vmpowerd did not answer in time");
        if (r < 0 && errno != EINTR)
            throw ControlError(std::string("poll: ") + std::strerror(errno));
        ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
        if (n <= 0) throw ControlError("vmpowerd closed the control connection");
        in.append(buf, static_cast<std::size_t>(n));
    }
    try {
        return nlohmann::json::parse(in.substr(0, in.find('\n')));
    } catch (const nlohmann::json::exception& e) {
        throw ControlError(std::string("bad answer from vmpowerd: ") + e.what());
    }
}

}  // namespace vmpower

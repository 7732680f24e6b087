#pragma once
// The test plays QEMU: it serves a channel's socket (QEMU is the server,
// the agent connects) and reads/writes records on the accepted connection.

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace vmpower::test {

// A non-blocking listening AF_UNIX socket at `path` (a stale file there is
// replaced), as QEMU's chardev server makes one.
inline UniqueFd listenUnix(const std::filesystem::path& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    ::unlink(path.c_str());
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
        ::listen(fd.get(), 4) < 0) {
        throw std::runtime_error("fake qemu " + path.string() + ": " + std::strerror(errno));
    }
    return fd;
}

class FakeQemuSocket {
  public:
    explicit FakeQemuSocket(std::filesystem::path path)
        : path_(std::move(path)), listen_(listenUnix(path_)) {}
    ~FakeQemuSocket() { ::unlink(path_.c_str()); }

    // Accepts a pending connection from the agent (non-blocking).
    bool poll() {
        UniqueFd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!c) return false;
        conn_ = std::move(c);
        return true;
    }
    bool connected() const { return conn_.valid(); }
    int fd() const { return conn_.get(); }  // the guest's end, for the guest library
    // True once the agent closed its end (EOF).
    bool peerClosed() {
        if (!conn_) return false;
        char b;
        ssize_t n = ::recv(conn_.get(), &b, 1, MSG_DONTWAIT | MSG_PEEK);
        return n == 0;
    }
    void send(const std::vector<std::byte>& bytes) {
        ::send(conn_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    void sendRaw(const void* p, std::size_t n) { ::send(conn_.get(), p, n, MSG_NOSIGNAL); }
    std::vector<std::byte> receiveAvailable() {
        std::vector<std::byte> out;
        std::byte buf[4096];
        ssize_t n;
        while (conn_ && (n = ::recv(conn_.get(), buf, sizeof buf, MSG_DONTWAIT)) > 0) {
            out.insert(out.end(), buf, buf + n);
        }
        return out;
    }
    void dropConnection() { conn_.reset(); }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
    UniqueFd listen_;
    UniqueFd conn_;
};

}  // namespace vmpower::test

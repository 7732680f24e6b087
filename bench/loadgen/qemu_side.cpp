#include "qemu_side.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace vmpower::bench {

QemuSide::QemuSide(const std::filesystem::path& dir, unsigned channels) : dir_(dir) {
    listeners_.reserve(channels);
    conns_.resize(channels);
    for (unsigned i = 0; i < channels; ++i) {
        const std::string p = path(i).string();
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (p.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + p);
        std::memcpy(addr.sun_path, p.data(), p.size());
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
            ::listen(fd.get(), 16) < 0) {
            throw std::runtime_error("listen " + p + ": " + std::strerror(errno));
        }
        listeners_.push_back(std::move(fd));
    }
}

std::filesystem::path QemuSide::path(unsigned channel) const {
    return dir_ / ("s" + std::to_string(channel));
}

unsigned QemuSide::acceptAll(std::chrono::steady_clock::time_point deadline) {
    // One epoll over the listeners still waiting: no busy polling while the
    // server starts up.
    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    for (unsigned i = 0; i < listeners_.size(); ++i) {
        if (conns_[i]) continue;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = i;
        ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, listeners_[i].get(), &ev);
    }
    epoll_event evs[256];
    while (!allConnected()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        int n = ::epoll_wait(ep.get(), evs, 256, static_cast<int>(left.count()));
        for (int k = 0; k < n; ++k) {
            const unsigned i = evs[k].data.u32;
            UniqueFd c(::accept4(listeners_[i].get(), nullptr, nullptr,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC));
            if (!c) continue;
            conns_[i] = std::move(c);
            ++accepted_;
            ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, listeners_[i].get(), nullptr);
        }
    }
    return accepted_;
}

}  // namespace vmpower::bench

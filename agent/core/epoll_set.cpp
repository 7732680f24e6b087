#include "epoll_set.h"

#include <libvirt/libvirt.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace vmpower {

EpollSet::EpollSet() : epfd_(epoll_create1(EPOLL_CLOEXEC)) {
    if (!epfd_) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    watch_ =
        EventLoop::watch(epfd_.get(), VIR_EVENT_HANDLE_READABLE, [this](int, int) { dispatch(); });
}

EpollSet::Token EpollSet::add(int fd, std::uint32_t events, EpollClient& client) {
    Token token = next_++;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    if (epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
        throw std::runtime_error(std::string("epoll_ctl add: ") + std::strerror(errno));
    }
    clients_.emplace(token, &client);
    return token;
}

void EpollSet::modify(Token token, int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    if (epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) < 0) {
        spdlog::error("epoll_ctl mod fd {}: {}", fd, std::strerror(errno));
    }
}

void EpollSet::remove(Token token, int fd) {
    epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr);
    clients_.erase(token);
}

void EpollSet::dispatch() {
    std::array<epoll_event, 64> events{};
    int n = epoll_wait(epfd_.get(), events.data(), static_cast<int>(events.size()), 0);
    if (n < 0 && errno != EINTR) spdlog::error("epoll_wait: {}", std::strerror(errno));
    for (int i = 0; i < n; ++i) {
        // epoll_event is packed on x86_64: copy fields out, never bind refs.
        const Token token = events[static_cast<std::size_t>(i)].data.u64;
        const std::uint32_t ready = events[static_cast<std::size_t>(i)].events;
        auto it = clients_.find(token);
        if (it == clients_.end()) continue;  // removed earlier in this batch
        // One client's failure never skips the rest of the batch.
        try {
            it->second->onEpollEvents(ready);
        } catch (const std::exception& e) {
            spdlog::error("channel event handler failed: {}", e.what());
        } catch (...) {
            spdlog::error("channel event handler failed");
        }
    }
}

}  // namespace vmpower

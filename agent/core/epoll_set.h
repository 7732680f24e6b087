#pragma once
// Every channel and control connection fd, registered straight in the event
// loop's one epoll fd (epoll_event_impl.h): a wakeup costs the same with 10 or
// 10 000 channels (only ready fds are visited) and a request costs one
// epoll_wait.

#include <sys/epoll.h>

#include <cstdint>

#include "epoll_event_impl.h"

namespace vmpower {

class EpollSet {
  public:
    EpollSet() = default;
    EpollSet(const EpollSet&) = delete;
    EpollSet& operator=(const EpollSet&) = delete;

    // Registration is by token, so a client removed while its events are
    // pending in the current batch is never called.
    using Token = epoll_event_impl::ClientKey;
    Token add(int fd, std::uint32_t events, EpollClient& client);
    void modify(Token token, int fd, std::uint32_t events);
    void remove(Token token, int fd);
};

}  // namespace vmpower

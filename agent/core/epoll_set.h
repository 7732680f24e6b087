#pragma once
// Every channel and control connection fd lives in one epoll set, which is
// a single handle in libvirt's loop: a wakeup costs the same with 10 or
// 10 000 channels (only ready fds are visited).

#include <sys/epoll.h>

#include <cstdint>
#include <unordered_map>

#include "event_loop.h"
#include "unique_fd.h"

namespace vmpower {

class EpollClient {
  public:
    virtual void onEpollEvents(std::uint32_t events) = 0;

  protected:
    ~EpollClient() = default;
};

class EpollSet {
  public:
    EpollSet();
    EpollSet(const EpollSet&) = delete;
    EpollSet& operator=(const EpollSet&) = delete;

    // Registration is by token, so a client removed while its events are
    // pending in the current batch is never called.
    using Token = std::uint64_t;
    Token add(int fd, std::uint32_t events, EpollClient& client);
    void modify(Token token, int fd, std::uint32_t events);
    void remove(Token token, int fd);
    std::size_t size() const { return clients_.size(); }

    void dispatch();  // drains ready events; called by the loop

  private:
    UniqueFd epfd_;
    EventLoop::Watch watch_;
    std::unordered_map<Token, EpollClient*> clients_;
    Token next_ = 1;
};

}  // namespace vmpower

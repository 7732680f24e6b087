#pragma once
// The service manager's notification socket ($NOTIFY_SOCKET), written
// without waiting. libsystemd's sd_notify sends on a blocking socket and
// waits while the manager's queue is full (net.unix.max_dgram_qlen
// datagrams), which would stall the loop when thousands of channels connect
// at once. Here the socket is non-blocking: what the manager cannot take yet
// waits in order and goes when the loop sees the socket writable.

#include <cstddef>
#include <deque>
#include <memory>
#include <string>

#include "event_loop.h"
#include "unique_fd.h"

namespace vmpower {

class NotifySocket {
  public:
    // Null when NOTIFY_SOCKET is unset or names no usable AF_UNIX socket
    // (logged). EventLoop::registerImpl() must have run.
    static std::unique_ptr<NotifySocket> fromEnvironment();
    explicit NotifySocket(UniqueFd connected);
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;
    // What still waits is sent with a bounded wait (the process is ending).
    ~NotifySocket();

    // Sends `text` (with a copy of `fd` when given) now or later, in order.
    // False: dropped, because too many fds wait already (each waiting one is
    // a descriptor of this process: FdBudget::kNotifyQueued).
    bool send(std::string text, int fd = -1);
    std::size_t waiting() const { return queue_.size(); }

  private:
    struct Message {
        std::string text;
        UniqueFd fd;
    };
    // 0: sent (or refused for good, logged); EAGAIN: the manager is behind.
    int sendNow(const std::string& text, int fd);
    void flush();
    void onEvents(std::uint32_t events);

    UniqueFd sock_;
    std::deque<Message> queue_;
    std::size_t queued_fds_ = 0;
    EventLoop::Registration watch_;  // after sock_: goes first
    std::uint32_t interest_ = 0;
    int last_error_ = 0;  // logged once per new error
};

}  // namespace vmpower

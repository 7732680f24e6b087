#pragma once
// vmpower's implementation of libvirt's event loop (virEventRegisterImpl) on
// one epoll fd. libvirt's handles and timeouts and the agent's own fds
// (channels, control connections: EpollClient) share that fd, so a request
// costs one epoll_wait, not a poll of the loop plus an epoll_wait of a nested
// set, and none of GLib's per-dispatch eventfd wake-ups.
//
// libvirt's rules kept here: a timeout of 0 fires every turn and -1 is
// disabled; a handle watching no events stays registered but is not polled;
// a removed handle's or timeout's free callback runs at the end of a later
// turn, never from inside the remove call (the caller may hold locks the
// free callback takes).

#include <cstddef>
#include <cstdint>

namespace vmpower {

// An fd the agent reads itself (not through libvirt's callback types).
class EpollClient {
  public:
    virtual void onEpollEvents(std::uint32_t events) = 0;

  protected:
    ~EpollClient() = default;
};

namespace epoll_event_impl {

// Registers the implementation with libvirt; once per process, before the
// first virConnectOpen. Later calls do nothing.
void registerWithLibvirt();

// One turn: waits for the next handle event or due timeout, dispatches what
// is ready, then runs the free callbacks of what was removed before.
void runOnce();

// The agent's own fds. The key is never reused, so a client removed while its
// events are pending in the current batch is never called. events are
// EPOLL* flags; a failure throws (std::runtime_error, with errno's text).
using ClientKey = std::uint64_t;
ClientKey addClient(int fd, std::uint32_t events, EpollClient& client);
void modifyClient(ClientKey key, int fd, std::uint32_t events);
void removeClient(ClientKey key, int fd);

// For tests: the free callbacks still waiting for a turn.
std::size_t pendingFrees();

}  // namespace epoll_event_impl
}  // namespace vmpower

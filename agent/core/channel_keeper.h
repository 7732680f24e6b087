#pragma once
// Where a channel's connected socket can outlive this process: a restart of
// vmpowerd hands it to the next run, so QEMU's side never sees the channel
// close and what the guest wrote meanwhile is read then. The channel only
// reports and asks through this interface; under systemd the Agent gives it
// agent/daemon's FdStore (the service manager's file-descriptor store).

#include <string_view>

#include "fd_budget.h"
#include "unique_fd.h"

namespace vmpower {

// A socket the previous run kept, with its place in the fd budget.
struct KeptSocket {
    UniqueFd fd;
    FdBudget::Ticket ticket;
};

class ChannelKeeper {
  public:
    virtual ~ChannelKeeper() = default;
    // The channel (uuid, index) connected `fd`: keep a copy for the next run.
    virtual void kept(std::string_view uuid, unsigned index, int fd) = 0;
    // It closed its socket (the domain went, the channel was removed or
    // disabled, QEMU hung up): the copy goes too, or QEMU's side would stay
    // connected to it. While the agent stops, copies are kept instead.
    virtual void released(std::string_view uuid, unsigned index) = 0;
    // As released(), also while the agent stops: the socket holds part of a
    // record this process read, so the next run would read the stream out
    // of step. It connects anew instead.
    virtual void torn(std::string_view uuid, unsigned index) = 0;
    // The socket the previous run kept for this channel (handed out once);
    // an empty fd when there is none.
    virtual KeptSocket adopt(std::string_view uuid, unsigned index) = 0;
};

}  // namespace vmpower

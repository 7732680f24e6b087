#pragma once
// Channels' sockets in systemd's file-descriptor store (docs/service.md
// "Restart and stop"): each connected channel's socket is handed to the
// service manager under its name (FDSTORE=1), and dropped from it when the
// channel closes for good (FDSTOREREMOVE=1). A `systemctl restart` gives
// them to the next run (LISTEN_FDS/LISTEN_FDNAMES), whose channels use
// them instead of connecting anew: QEMU's side never sees a close.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "channel_keeper.h"
#include "fd_budget.h"
#include "notify_socket.h"

namespace vmpower {

class FdStore final : public ChannelKeeper {
  public:
    // The one naming rule of a channel's socket in the store:
    // `ch-<uuid>-<index>` (systemd allows 255 characters, no ':').
    // Nullopt for a uuid that cannot be part of a name.
    static std::optional<std::string> nameFor(std::string_view uuid, unsigned index);

    // Takes the sockets the previous run kept (LISTEN_FDS for this pid,
    // from fd 3), each with a ticket of `budget`; fds that are no channel's
    // are closed at once. Stores through `notify` (null: nothing is stored,
    // as without systemd).
    FdStore(std::unique_ptr<NotifySocket> notify, FdBudget& budget);

    void kept(std::string_view uuid, unsigned index, int fd) override;
    void released(std::string_view uuid, unsigned index) override;
    void torn(std::string_view uuid, unsigned index) override;
    KeptSocket adopt(std::string_view uuid, unsigned index) override;

    // After the first reconcile: kept sockets no channel took (their domain
    // or channel is gone) are closed and dropped from the store.
    void dropUnadopted();
    // The agent stops: channels closing from now on stay in the store (a
    // restart hands them to the next run; `systemctl stop` flushes it).
    void agentStopping() { stopping_ = true; }
    std::size_t unadopted() const { return previous_.size(); }

  private:
    void remove(const std::string& name);

    std::unique_ptr<NotifySocket> notify_;
    std::map<std::string, KeptSocket, std::less<>> previous_;  // by name
    bool stopping_ = false;
};

}  // namespace vmpower

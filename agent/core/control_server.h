#pragma once
// The agent's control socket: one JSON object per line in, one per line out
// (vmpowerctl, vmpowerd --dump-state). Each client is identified by
// SO_PEERCRED when it connects (control_access.h) and bounded in every way
// a client could hold the agent: line length, unread output, idle time and
// number of clients. It must never starve the guests' channels.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control_access.h"
#include "event_loop.h"
#include "retry_scheduler.h"
#include "unique_fd.h"

namespace vmpower {

struct ControlServerOptions {
    std::filesystem::path path;
    ControlGroups groups;  // none: root only, and the socket is mode 0600
    std::size_t max_line = 64 * 1024;
    std::size_t max_unread_output = 16 * 1024 * 1024;  // a client that does not read is dropped
    std::chrono::milliseconds idle_timeout{60'000};
    std::size_t max_clients = 16;  // root gets kRootReserve more, so it is never locked out
    std::chrono::milliseconds accept_backoff{250};  // after EMFILE & co.
};

// A command's answer owed to one client, for a handler that answers later
// (after work off the loop): call it once, on the loop, with the answer. A
// client gone meanwhile is never called back (the reply holds only a weak
// link to it); a reply destroyed unanswered tells its client the command
// had no answer, so the client's later lines do not wait forever.
class ControlReply {
  public:
    ControlReply() = default;
    ControlReply(ControlReply&& o) noexcept = default;
    ControlReply& operator=(ControlReply&& o) noexcept;
    ControlReply(const ControlReply&) = delete;
    ControlReply& operator=(const ControlReply&) = delete;
    ~ControlReply();

    // Sends the answer (the client's later lines are served after it);
    // later calls do nothing.
    void operator()(nlohmann::json answer);
    // The client is still there to be answered.
    bool waiting() const { return !link_.expired(); }

  private:
    friend class ControlServer;
    struct Link {
        std::function<void(nlohmann::json)> deliver;
    };
    explicit ControlReply(std::weak_ptr<Link> link) : link_(std::move(link)) {}
    void forget() { link_.reset(); }
    static nlohmann::json noAnswer();

    std::weak_ptr<Link> link_;
};

class ControlServer final : public EpollClient {
  public:
    static constexpr std::size_t kRootReserve = 4;
    // At most this many commands of one client per loop turn: a client
    // pipelining hundreds in one write gets them answered over several
    // turns, in order, with the guests' channels served in between.
    static constexpr std::size_t kCommandsPerTurn = 8;
    // The answer now, or nullopt: the handler has taken `later` (moved it
    // out) and answers through it; the client's later lines wait for it.
    using Handler = std::function<std::optional<nlohmann::json>(
        const nlohmann::json& request, ControlAccess, ControlReply& later)>;
    // A handler that always answers at once.
    using SyncHandler = std::function<nlohmann::json(const nlohmann::json& request, ControlAccess)>;
    ControlServer(RetryScheduler& retries, ControlServerOptions options, Handler handler);
    ControlServer(RetryScheduler& retries, ControlServerOptions options, SyncHandler handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    const std::filesystem::path& path() const { return options_.path; }
    std::size_t clients() const { return clients_.size(); }
    // Continuations run so far: a client's lines left for a later turn.
    std::uint64_t continuations() const { return continuations_; }

  private:
    class Client;
    void onEpollEvents(std::uint32_t events) override;
    void admit(UniqueFd fd);
    void pauseAccepting(int error);
    void drop(Client* client, const char* why);

    RetryScheduler& retries_;
    ControlServerOptions options_;
    Handler handler_;
    UniqueFd listen_fd_;
    EventLoop::Registration reg_;  // before listen_fd_ closes
    RetryScheduler::Call resume_;  // accepting paused until then
    std::list<std::unique_ptr<Client>> clients_;
    std::uint64_t continuations_ = 0;
};

}  // namespace vmpower

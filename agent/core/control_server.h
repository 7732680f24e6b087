#pragma once
// The agent's control socket: one JSON object per line in, one per line out
// (vmpowerctl, vmpowerd --dump-state). Each client is identified by
// SO_PEERCRED when it connects (control_access.h) and bounded in every way
// a client could hold the agent: line length, unread output, idle time and
// number of clients. It must never starve the guests' channels.

#include <chrono>
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

class ControlServer final : public EpollClient {
  public:
    static constexpr std::size_t kRootReserve = 4;
    using Handler = std::function<nlohmann::json(const nlohmann::json& request, ControlAccess)>;
    ControlServer(RetryScheduler& retries, ControlServerOptions options, Handler handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    const std::filesystem::path& path() const { return options_.path; }
    std::size_t clients() const { return clients_.size(); }

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
};

}  // namespace vmpower

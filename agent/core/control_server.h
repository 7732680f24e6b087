#pragma once
// The agent's control socket: one JSON object per line in, one per line out
// (vmpowerctl, vmpowerd --dump-state). Root-only (mode 0600), few clients,
// bounded input: it must not become a way to starve the guests' channels.

#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "epoll_set.h"
#include "unique_fd.h"

namespace vmpower {

class ControlServer final : public EpollClient {
  public:
    using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;
    ControlServer(EpollSet& epoll, std::filesystem::path path, Handler handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    const std::filesystem::path& path() const { return path_; }

  private:
    class Client;
    void onEpollEvents(std::uint32_t events) override;
    void drop(Client* client);

    EpollSet& epoll_;
    std::filesystem::path path_;
    Handler handler_;
    UniqueFd listen_fd_;
    EpollSet::Token token_ = 0;
    std::list<std::unique_ptr<Client>> clients_;
};

}  // namespace vmpower

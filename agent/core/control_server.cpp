#include "control_server.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace vmpower {

namespace {
constexpr std::size_t kMaxClients = 16;
constexpr std::size_t kMaxLine = 64 * 1024;
}  // namespace

class ControlServer::Client final : public EpollClient {
  public:
    Client(ControlServer& server, UniqueFd fd) : server_(server), fd_(std::move(fd)) {
        token_ = server_.epoll_.add(fd_.get(), EPOLLIN | EPOLLRDHUP, *this);
    }
    ~Client() { server_.epoll_.remove(token_, fd_.get()); }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    void onEpollEvents(std::uint32_t events) override {
        if (events & EPOLLIN) {
            std::array<char, 4096> buf;
            ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                server_.drop(this);
                return;
            }
            if (n > 0) in_.append(buf.data(), static_cast<std::size_t>(n));
            if (in_.size() > kMaxLine) {
                reply({{"ok", false}, {"error", "request too long"}});
                server_.drop(this);
                return;
            }
            for (auto nl = in_.find('\n'); nl != std::string::npos; nl = in_.find('\n')) {
                std::string line = in_.substr(0, nl);
                in_.erase(0, nl + 1);
                handleLine(line);
            }
        }
        if (events & EPOLLOUT) flush();
        if ((events & (EPOLLHUP | EPOLLERR)) != 0 && (events & EPOLLIN) == 0) {
            server_.drop(this);
            return;
        }
    }

  private:
    void handleLine(const std::string& line) {
        nlohmann::json response;
        try {
            response = server_.handler_(nlohmann::json::parse(line));
        } catch (const nlohmann::json::exception& e) {
            response = {{"ok", false}, {"error", std::string("bad request: ") + e.what()}};
        } catch (const std::exception& e) {
            response = {{"ok", false}, {"error", e.what()}};
        }
        reply(response);
    }
    void reply(const nlohmann::json& response) {
        out_ += response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out_ += '\n';
        flush();
    }
    void flush() {
        while (!out_.empty()) {
            ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n <= 0) break;
            out_.erase(0, static_cast<std::size_t>(n));
        }
        server_.epoll_.modify(token_, fd_.get(),
                              EPOLLIN | EPOLLRDHUP | (out_.empty() ? 0U : std::uint32_t{EPOLLOUT}));
    }

    ControlServer& server_;
    UniqueFd fd_;
    EpollSet::Token token_;
    std::string in_, out_;
};

ControlServer::ControlServer(EpollSet& epoll, std::filesystem::path path, Handler handler)
    : epoll_(epoll), path_(std::move(path)), handler_(std::move(handler)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.native().size() >= sizeof addr.sun_path) {
        throw std::runtime_error("control socket path too long: " + path_.string());
    }
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    std::memcpy(addr.sun_path, path_.c_str(), path_.native().size());
    listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listen_fd_) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    ::unlink(path_.c_str());  // a stale socket from a previous run
    mode_t old = ::umask(0177);
    int rc = ::bind(listen_fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    ::umask(old);
    if (rc < 0 || ::listen(listen_fd_.get(), 8) < 0) {
        throw std::runtime_error("control socket " + path_.string() + ": " + std::strerror(errno));
    }
    token_ = epoll_.add(listen_fd_.get(), EPOLLIN, *this);
    spdlog::info("control socket at {}", path_.string());
}

ControlServer::~ControlServer() {
    clients_.clear();
    epoll_.remove(token_, listen_fd_.get());
    ::unlink(path_.c_str());
}

void ControlServer::onEpollEvents(std::uint32_t) {
    while (true) {
        UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) return;
        if (clients_.size() >= kMaxClients) {
            spdlog::warn("control socket: too many clients, refusing one");
            continue;
        }
        clients_.push_back(std::make_unique<Client>(*this, std::move(fd)));
    }
}

void ControlServer::drop(Client* client) {
    clients_.remove_if([client](const auto& c) { return c.get() == client; });
}

}  // namespace vmpower

#include "control_server.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "log.h"

namespace vmpower {

class ControlServer::Client final : public EpollClient {
  public:
    Client(ControlServer& server, UniqueFd fd, ControlPeer peer, ControlAccess access)
        : server_(server), fd_(std::move(fd)), peer_(std::move(peer)), access_(access) {
        link_->deliver = [this](nlohmann::json answer) { deliver(answer); };
        reg_ = EventLoop::add(fd_.get(), EPOLLIN | EPOLLRDHUP, *this);
        touch();
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool root() const { return peer_.uid == 0; }

    void onEpollEvents(std::uint32_t events) override {
        if (events & EPOLLIN) {
            std::array<char, 4096> buf;
            ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                server_.drop(this, nullptr);
                return;
            }
            if (n > 0) {
                in_.append(buf.data(), static_cast<std::size_t>(n));
                touch();
            }
            // The line being read (after the last whole one) is bounded;
            // whole lines wait to be served, and nothing more is read while
            // they do (serve() watches EPOLLIN only when none is left).
            const std::size_t last = in_.rfind('\n');
            const std::size_t partial =
                last == std::string::npos ? in_.size() : in_.size() - last - 1;
            if (partial > server_.options_.max_line) {
                if (reply({{"ok", false},
                           {"error", "request longer than " +
                                         std::to_string(server_.options_.max_line) + " bytes"}})) {
                    server_.drop(this, "request too long");
                }
                return;
            }
            if (!serve()) return;
        }
        if ((events & EPOLLOUT) && !flush()) return;
        if ((events & (EPOLLHUP | EPOLLERR)) != 0 && (events & EPOLLIN) == 0) {
            server_.drop(this, nullptr);
            return;
        }
    }

  private:
    bool lineWaiting() const { return in_.find('\n') != std::string::npos; }

    // Answers up to kCommandsPerTurn whole lines, in order, stopping at one
    // answered later; what is left goes on at the next turn. false: the
    // client was dropped (this is gone).
    bool serve() {
        serving_ = true;
        for (std::size_t n = 0; n < kCommandsPerTurn && !waiting_ && lineWaiting(); ++n) {
            const std::size_t nl = in_.find('\n');
            std::string line = in_.substr(0, nl);
            in_.erase(0, nl + 1);
            handleLine(line);
        }
        serving_ = false;
        if (!flush()) return false;
        if (!waiting_ && lineWaiting()) continueLater();
        return true;
    }
    void continueLater() {
        if (more_.pending()) return;
        more_ = server_.retries_.schedule(std::chrono::milliseconds(0), [this] {
            ++server_.continuations_;
            (void)serve();
        });
    }
    void handleLine(const std::string& line) {
        waiting_ = true;  // until answered: now, or through `later`
        ControlReply later(link_);
        std::optional<nlohmann::json> answer;
        try {
            answer = server_.handler_(nlohmann::json::parse(line), access_, later);
        } catch (const nlohmann::json::exception& e) {
            answer = {{"ok", false}, {"error", std::string("bad request: ") + e.what()}};
        } catch (const std::exception& e) {
            answer = {{"ok", false}, {"error", e.what()}};
        }
        if (answer) {
            later.forget();
            append(*answer);
            waiting_ = false;
        }
        // else `later` answers: moved out, or (left here) unanswered now.
    }
    // An answer given later. Inside serve() (the handler answered at once
    // through its reply) serve() goes on; otherwise the rest is served on
    // a later turn, never from inside whoever answered.
    void deliver(const nlohmann::json& answer) {
        if (!waiting_) return;
        append(answer);
        waiting_ = false;
        touch();
        if (!serving_) continueLater();
    }
    void append(const nlohmann::json& response) {
        out_ += response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out_ += '\n';
    }
    bool reply(const nlohmann::json& response) {
        append(response);
        return flush();
    }
    bool flush() {
        while (!out_.empty()) {
            ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n <= 0) break;
            out_.erase(0, static_cast<std::size_t>(n));
            touch();
        }
        if (out_.size() > server_.options_.max_unread_output) {
            server_.drop(this, "does not read its replies");
            return false;
        }
        // Read more only when every whole line read so far is answered.
        const bool read = !waiting_ && !lineWaiting();
        reg_.modify((read ? std::uint32_t{EPOLLIN | EPOLLRDHUP} : 0U) |
                    (out_.empty() ? 0U : std::uint32_t{EPOLLOUT}));
        return true;
    }
    // Any progress restarts the idle clock (one timer entry per client).
    void touch() {
        idle_ = server_.retries_.schedule(server_.options_.idle_timeout,
                                          [this] { server_.drop(this, "idle"); });
    }

    ControlServer& server_;
    UniqueFd fd_;
    ControlPeer peer_;
    ControlAccess access_;
    // ControlReply's way back; gone with the client, so a late answer to a
    // dropped client goes nowhere.
    std::shared_ptr<ControlReply::Link> link_ = std::make_shared<ControlReply::Link>();
    EventLoop::Registration reg_;  // before fd_ closes
    RetryScheduler::Call idle_;
    RetryScheduler::Call more_;  // lines left for the next turn
    std::string in_, out_;
    bool waiting_ = false;  // a command's answer is owed (later lines wait)
    bool serving_ = false;  // inside serve()
};

ControlReply& ControlReply::operator=(ControlReply&& o) noexcept {
    if (this != &o) {
        if (auto link = link_.lock()) link->deliver(noAnswer());
        link_ = std::move(o.link_);
        o.link_.reset();
    }
    return *this;
}

ControlReply::~ControlReply() {
    if (auto link = link_.lock()) link->deliver(noAnswer());
}

void ControlReply::operator()(nlohmann::json answer) {
    auto link = link_.lock();
    link_.reset();
    if (link) link->deliver(std::move(answer));
}

nlohmann::json ControlReply::noAnswer() {
    return {{"ok", false}, {"error", "internal error: the command gave no answer"}};
}

ControlServer::ControlServer(RetryScheduler& retries, ControlServerOptions options,
                             SyncHandler handler)
    : ControlServer(
          retries, std::move(options),
          Handler([h = std::move(handler)](const nlohmann::json& request, ControlAccess access,
                                           ControlReply&) -> std::optional<nlohmann::json> {
              return h(request, access);
          })) {}

ControlServer::ControlServer(RetryScheduler& retries, ControlServerOptions options, Handler handler)
    : retries_(retries), options_(std::move(options)), handler_(std::move(handler)) {
    const auto& path = options_.path;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.native().size() >= sizeof addr.sun_path) {
        throw std::runtime_error("control socket path too long: " + path.string());
    }
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::memcpy(addr.sun_path, path.c_str(), path.native().size());
    listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listen_fd_) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    ::unlink(path.c_str());  // a stale socket from a previous run
    // Root only unless groups are configured; then anybody may connect and
    // SO_PEERCRED decides (file modes cannot express two groups).
    mode_t old = ::umask(options_.groups.any() ? 0111 : 0177);
    int rc = ::bind(listen_fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    ::umask(old);
    if (rc < 0 || ::listen(listen_fd_.get(), 16) < 0) {
        throw std::runtime_error("control socket " + path.string() + ": " + std::strerror(errno));
    }
    reg_ = EventLoop::add(listen_fd_.get(), EPOLLIN, *this);
    LOG(Control).info("control socket at {}", path.string());
}

ControlServer::~ControlServer() {
    resume_.reset();
    clients_.clear();
    reg_.reset();
    ::unlink(options_.path.c_str());
}

void ControlServer::onEpollEvents(std::uint32_t) {
    // Bounded per wakeup so a flood of connects cannot hold the loop.
    for (int i = 0; i < 32; ++i) {
        UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                pauseAccepting(errno);
            }
            return;  // EAGAIN: drained; anything else: the next wakeup retries
        }
        admit(std::move(fd));
    }
}

void ControlServer::admit(UniqueFd fd) {
    auto refuse = [&](const std::string& why) {
        const std::string line = nlohmann::json{{"ok", false}, {"error", why}}.dump() + "\n";
        (void)::send(fd.get(), line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    };
    auto peer = controlPeerOf(fd.get());
    if (!peer) {
        LOG(Control).warn("control socket: cannot identify a client ({}); refused",
                          std::strerror(errno));
        return;
    }
    auto access = controlAccessFor(*peer, options_.groups);
    if (!access) {
        LOG(Control).warn(
            "control socket: {} refused: neither root nor in the operator or read-only "
            "group",
            describePeer(*peer));
        refuse("permission denied: " + describePeer(*peer) +
               " is neither root nor in the control socket's operator or read-only group");
        return;
    }
    const std::size_t limit = options_.max_clients + (peer->uid == 0 ? kRootReserve : 0);
    if (clients_.size() >= limit) {
        LOG(Control).warn("control socket: {} clients already; {} refused", clients_.size(),
                          describePeer(*peer));
        refuse("too many clients of the control socket; try again later");
        return;
    }
    clients_.push_back(std::make_unique<Client>(*this, std::move(fd), std::move(*peer), *access));
}

void ControlServer::pauseAccepting(int error) {
    // Level-triggered: a pending connection we cannot accept would wake the
    // loop again at once, forever. Stop watching until fds may be free.
    if (resume_.pending()) return;
    LOG(Control).warn("control socket: cannot accept ({}); pausing for {} ms", std::strerror(error),
                      options_.accept_backoff.count());
    reg_.modify(0);
    resume_ = retries_.schedule(options_.accept_backoff, [this] { reg_.modify(EPOLLIN); });
}

void ControlServer::drop(Client* client, const char* why) {
    if (why != nullptr) LOG(Control).info("control socket: dropping a client: {}", why);
    clients_.remove_if([client](const auto& c) { return c.get() == client; });
}

}  // namespace vmpower

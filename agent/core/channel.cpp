#include "channel.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <functional>
#include <random>

#include "log.h"
#include "power_channel.h"
#include "verdict.h"

namespace vmpower {

namespace {
constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
constexpr int kReadsPerWakeup = 16;  // then let other channels run

// A socket stands in for a new connection to `path` when it is a connected
// AF_UNIX stream socket whose peer is bound at `path`. It is made
// non-blocking here: the loop never waits on a channel.
Verdict connectedTo(int fd, const std::string& path) {
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return Verdict::refused(std::string("not a socket: ") + std::strerror(errno));
    if (type != SOCK_STREAM) return Verdict::refused("not a stream socket");
    sockaddr_un peer{};
    len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) < 0)
        return Verdict::refused(std::string("no peer: ") + std::strerror(errno));
    if (peer.sun_family != AF_UNIX) return Verdict::refused("not an AF_UNIX socket");
    const std::size_t path_bytes =
        len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    std::string bound(peer.sun_path, ::strnlen(peer.sun_path, path_bytes));
    if (bound != path) return Verdict::refused("its peer is bound at '" + bound + "'");
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return Verdict::refused(std::string("fcntl: ") + std::strerror(errno));
    return Verdict::accepted();
}
}  // namespace

Channel::Channel(ChannelEnv& env, const GuestIdentity& guest, PowerChannel desc,
                 RecordFormat format)
    : env_(env),
      guest_(guest),
      desc_(std::move(desc)),
      assembler_(recordSize(format)),
      request_state_(env.handler.newChannelState()),
      replies_(env.reply_queue_records),
      jitter_rng_(static_cast<std::uint_fast32_t>(std::hash<std::string>{}(desc_.source_path))) {}

Channel::~Channel() {
    close();
}

void Channel::open() {
    if (!enabled_) return;
    if (state_ == State::Connected || state_ == State::Connecting) return;
    backoff_ = kFirstBackoff;
    state_ = State::Connecting;
    tryConnect();
}

void Channel::close() {
    retry_.reset();
    dropConnection();
    if (state_ == State::Connected) {
        LOG(Channels).info("{}: channel {} closed", guest_.name, desc_.index);
    }
    state_ = enabled_ ? State::Closed : State::Disabled;
}

void Channel::setEnabled(bool enabled) {
    if (enabled == enabled_) return;
    enabled_ = enabled;
    LOG(Channels).info("{}: channel {} {} by the operator", guest_.name, desc_.index,
                       enabled ? "enabled" : "disabled");
    if (enabled) {
        state_ = State::Closed;
        open();
    } else {
        close();
    }
}

void Channel::setRecordFormat(RecordFormat format) {
    if (recordSize(format) == assembler_.recordSize()) return;
    // Bytes of a record in the old framing cannot be read in the new one.
    if (assembler_.pendingBytes() > 0) ++stats_.partial_dropped;
    assembler_ = RecordAssembler(recordSize(format));
}

Channel::Stats Channel::stats() const {
    Stats s = stats_;
    s.requests = env_.handler.counters(*request_state_);
    s.replies_sent = replies_.sent();
    s.replies_dropped = replies_.dropped();
    return s;
}

ChannelView Channel::view() const {
    return {desc_.index, desc_.source_path, desc_.alias, state_, enabled_, stats()};
}

void Channel::noteError(const std::string& msg) {
    if (msg != stats_.last_error) {
        LOG(Channels).warn("{}: channel {} ({}): {}", guest_.name, desc_.index, desc_.source_path,
                           msg);
    }
    stats_.last_error = msg;
}

void Channel::tryConnect() {
    retry_.reset();
    if (desc_.source_path.empty() || desc_.source_path.size() > kMaxSocketPathBytes) {
        state_ = State::Failed;
        noteError(desc_.source_path.empty()
                      ? "no socket path"
                      : "socket path is " + std::to_string(desc_.source_path.size()) +
                            " bytes, AF_UNIX allows " + std::to_string(kMaxSocketPathBytes));
        return;
    }
    KeptSocket socket = adoptKept();
    const bool adopted = socket.fd.valid();
    if (!adopted) {
        socket.fd = connectSocket(socket.ticket);
        if (!socket.fd) return;
    }
    PeerCheck check = env_.peers.verify(socket.fd.get(), guest_.name);
    if (check.verdict != PeerVerdict::Accept && adopted) {
        env_.keeper->released(guest_.uuid, desc_.index);  // the next try connects anew
    }
    if (check.verdict == PeerVerdict::Reject) {
        state_ = State::Refused;
        if (env_.peer_check_refusals != nullptr) ++*env_.peer_check_refusals;
        LOG(Channels).error("{}: channel {} ({}) refused: {}", guest_.name, desc_.index,
                            desc_.source_path, check.why);
        stats_.last_error = "refused: " + check.why;
        return;
    }
    if (check.verdict == PeerVerdict::Retry) {
        noteError(check.why);
        retryLater();
        return;
    }
    connected(std::move(socket.fd), std::move(socket.ticket), adopted);
}

UniqueFd Channel::connectSocket(FdBudget::Ticket& ticket) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, desc_.source_path.data(), desc_.source_path.size());
    if (env_.fds != nullptr) {
        ticket = env_.fds->take();
        if (!ticket) {
            noteError("no file descriptor left for channels (" + std::to_string(env_.fds->limit()) +
                      " in use; raise LimitNOFILE): waiting for one to be freed");
            retryLater();
            return {};
        }
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        noteError(std::string("socket: ") + std::strerror(errno));
        retryLater();
        return {};
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
        // ENOENT: QEMU has not bound yet (or the directory is missing);
        // ECONNREFUSED: stale socket; EAGAIN: backlog full. All transient.
        noteError(std::string("connect: ") + std::strerror(errno));
        retryLater();
        return {};
    }
    return fd;
}

KeptSocket Channel::adoptKept() {
    if (env_.keeper == nullptr) return {};
    KeptSocket kept = env_.keeper->adopt(guest_.uuid, desc_.index);
    if (!kept.fd) return kept;
    // The domain's XML may name another path now, or the socket may be
    // something else altogether: only a connected stream socket whose peer
    // is bound at the channel's path stands in for a new connection.
    Verdict usable = connectedTo(kept.fd.get(), desc_.source_path);
    if (usable) return kept;
    LOG(Channels).warn("{}: channel {} ({}): not using the socket kept by the previous run: {}",
                       guest_.name, desc_.index, desc_.source_path, usable.reason());
    env_.keeper->released(guest_.uuid, desc_.index);
    return {};
}

void Channel::connected(UniqueFd fd, FdBudget::Ticket ticket, bool adopted) {
    fd_ = std::move(fd);
    fd_ticket_ = std::move(ticket);
    interest_ = EPOLLIN | EPOLLRDHUP;
    // Level-triggered: bytes the guest wrote while no agent ran are
    // reported on the next turn.
    reg_ = EventLoop::add(fd_.get(), interest_, *this);
    state_ = State::Connected;
    backoff_ = kFirstBackoff;
    ++stats_.connects;
    stats_.last_error.clear();
    if (adopted) {
        LOG(Channels).info("{}: channel {} connected ({}), kept across the agent's restart",
                           guest_.name, desc_.index, desc_.source_path);
        return;  // the store still holds it
    }
    LOG(Channels).info("{}: channel {} connected ({})", guest_.name, desc_.index,
                       desc_.source_path);
    if (env_.keeper != nullptr) env_.keeper->kept(guest_.uuid, desc_.index, fd_.get());
}

void Channel::retryLater() {
    state_ = State::Connecting;
    // +-20% jitter: channels that failed together (a domain's, or all of them
    // after a host event) must not keep retrying in the same loop turn.
    auto jitter = std::uniform_int_distribution<long>(-backoff_.count() / 5, backoff_.count() / 5);
    auto delay = backoff_ + std::chrono::milliseconds(jitter(jitter_rng_));
    retry_ = env_.retries.schedule(delay, [this] { tryConnect(); });
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

void Channel::dropConnection() {
    if (fd_ && env_.keeper != nullptr) {
        if (assembler_.pendingBytes() > 0) {
            env_.keeper->torn(guest_.uuid, desc_.index);
        } else {
            env_.keeper->released(guest_.uuid, desc_.index);
        }
    }
    reg_.reset();  // before the fd closes
    fd_.reset();
    fd_ticket_.reset();
    replies_.clear();
    if (assembler_.pendingBytes() > 0) {
        ++stats_.partial_dropped;
        LOG(Channels).debug("{}: channel {}: dropped {} bytes of an incomplete record", guest_.name,
                            desc_.index, assembler_.pendingBytes());
    }
    assembler_.reset();
}

void Channel::disconnect(const std::string& why, bool retry) {
    dropConnection();
    LOG(Channels).info("{}: channel {} disconnected: {}", guest_.name, desc_.index, why);
    if (retry) {
        backoff_ = kFirstBackoff;
        retryLater();
    } else {
        state_ = State::Closed;
    }
}

void Channel::onEpollEvents(std::uint32_t events) {
    if (events & EPOLLIN) onReadable();
    if (state_ != State::Connected) return;
    if (events & EPOLLOUT) flushReplies();
    if (state_ != State::Connected) return;
    // With data still readable, reading goes on until EOF: the last records
    // still count. A hang-up with nothing left to read ends it here.
    if ((events & (EPOLLHUP | EPOLLERR)) != 0 && (events & EPOLLIN) == 0) {
        disconnect("QEMU closed the socket", true);
        return;
    }
    updateInterest();
}

void Channel::onReadable() {
    std::array<std::byte, 4096> buf;
    for (int i = 0; i < kReadsPerWakeup; ++i) {
        ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            disconnect(std::string("recv: ") + std::strerror(errno), true);
            return;
        }
        if (n == 0) {
            disconnect("QEMU closed the socket", true);
            return;
        }
        stats_.bytes_in += static_cast<std::uint64_t>(n);
        assembler_.feed(std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)),
                        [this](std::span<const std::byte> record) {
                            auto reply = env_.handler.handle(guest_, *request_state_, record);
                            if (reply.empty()) return;
                            // One read can hold more records than the queue:
                            // before a push would drop a reply, hand what the
                            // socket takes to it, so only a guest that does
                            // not read loses replies. A hard error shows again
                            // at flushReplies() below, outside the assembler.
                            if (replies_.size() >= env_.reply_queue_records) {
                                (void)replies_.flush(fd_.get());
                            }
                            replies_.push(std::move(reply));
                        });
        // A short read emptied the socket: the next recv would only say
        // EAGAIN (one system call per request saved). Level-triggered epoll
        // reports later bytes, or EOF, on the next turn.
        if (static_cast<std::size_t>(n) < buf.size()) break;
    }
    flushReplies();
    if (state_ == State::Connected) updateInterest();
}

void Channel::flushReplies() {
    if (!replies_.flush(fd_.get())) {
        disconnect(std::string("send: ") + std::strerror(errno), true);
    }
}

void Channel::updateInterest() {
    std::uint32_t want = EPOLLIN | EPOLLRDHUP | (replies_.empty() ? 0U : std::uint32_t{EPOLLOUT});
    if (want != interest_) {
        interest_ = want;
        reg_.modify(interest_);
    }
}

}  // namespace vmpower

#include "channel.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <random>

#include "log.h"
#include "power_channel.h"

namespace vmpower {

namespace {
constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
constexpr int kReadsPerWakeup = 16;  // then let other channels run
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
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (desc_.source_path.empty() || desc_.source_path.size() > kMaxSocketPathBytes) {
        state_ = State::Failed;
        noteError(desc_.source_path.empty()
                      ? "no socket path"
                      : "socket path is " + std::to_string(desc_.source_path.size()) +
                            " bytes, AF_UNIX allows " + std::to_string(kMaxSocketPathBytes));
        return;
    }
    std::memcpy(addr.sun_path, desc_.source_path.data(), desc_.source_path.size());

    FdBudget::Ticket ticket;
    if (env_.fds != nullptr) {
        ticket = env_.fds->take();
        if (!ticket) {
            noteError("no file descriptor left for channels (" + std::to_string(env_.fds->limit()) +
                      " in use; raise LimitNOFILE): waiting for one to be freed");
            retryLater();
            return;
        }
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        noteError(std::string("socket: ") + std::strerror(errno));
        retryLater();
        return;
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
        // ENOENT: QEMU has not bound yet (or the directory is missing);
        // ECONNREFUSED: stale socket; EAGAIN: backlog full. All transient.
        noteError(std::string("connect: ") + std::strerror(errno));
        retryLater();
        return;
    }
    PeerCheck check = env_.peers.verify(fd.get(), guest_.name);
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
    fd_ = std::move(fd);
    fd_ticket_ = std::move(ticket);
    interest_ = EPOLLIN | EPOLLRDHUP;
    reg_ = EventLoop::add(fd_.get(), interest_, *this);
    state_ = State::Connected;
    backoff_ = kFirstBackoff;
    ++stats_.connects;
    stats_.last_error.clear();
    LOG(Channels).info("{}: channel {} connected ({})", guest_.name, desc_.index,
                       desc_.source_path);
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

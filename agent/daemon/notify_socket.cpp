#include "notify_socket.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "fd_budget.h"
#include "log.h"

namespace vmpower {

std::unique_ptr<NotifySocket> NotifySocket::fromEnvironment() {
    const char* env = std::getenv("NOTIFY_SOCKET");
    if (env == nullptr || *env == '\0') return nullptr;
    std::string path(env);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    // '/': a path; '@': Linux's abstract namespace (systemd uses both).
    if ((path[0] != '/' && path[0] != '@') || path.size() >= sizeof addr.sun_path) {
        LOG(Agent).warn("NOTIFY_SOCKET={}: not an AF_UNIX socket vmpowerd can use", path);
        return nullptr;
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (path[0] == '@') addr.sun_path[0] = '\0';
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                            (path[0] == '@' ? 0 : 1));
    // Non-blocking (O_NONBLOCK, not MSG_DONTWAIT: the destructor waits).
    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    // Connected: poll then says whether the manager's queue has room.
    if (!fd || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) < 0) {
        LOG(Agent).warn("NOTIFY_SOCKET={}: {}", path, std::strerror(errno));
        return nullptr;
    }
    return std::make_unique<NotifySocket>(std::move(fd));
}

NotifySocket::NotifySocket(UniqueFd connected) : sock_(std::move(connected)) {
    watch_ = EventLoop::watch(sock_.get(), 0, [this](std::uint32_t events) { onEvents(events); });
}

NotifySocket::~NotifySocket() {
    if (queue_.empty()) return;
    // At most a second per message, then what is left is lost: the next run
    // sees fds that are no channel's any more and drops them.
    timeval wait{1, 0};
    (void)::setsockopt(sock_.get(), SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
    const int flags = ::fcntl(sock_.get(), F_GETFL);
    if (flags >= 0) (void)::fcntl(sock_.get(), F_SETFL, flags & ~O_NONBLOCK);
    while (!queue_.empty() && sendNow(queue_.front().text, queue_.front().fd.get()) == 0)
        queue_.pop_front();
    if (!queue_.empty())
        LOG(Agent).warn("the service manager did not take {} notification(s)", queue_.size());
}

bool NotifySocket::send(std::string text, int fd) {
    // Sent at once in the common case: no copy of the fd needed.
    if (queue_.empty() && sendNow(text, fd) != EAGAIN) return true;
    Message m{std::move(text), {}};
    if (fd >= 0) {
        if (queued_fds_ >= FdBudget::kNotifyQueued) return false;
        m.fd.reset(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
        if (!m.fd) return false;
        ++queued_fds_;
    }
    queue_.push_back(std::move(m));
    if (interest_ != EPOLLOUT) watch_.modify(interest_ = EPOLLOUT);
    return true;
}

int NotifySocket::sendNow(const std::string& text, int fd) {
    iovec iov{const_cast<char*>(text.data()), text.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
    if (fd >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    while (::sendmsg(sock_.get(), &msg, MSG_NOSIGNAL) < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return EAGAIN;
        if (errno != last_error_) {
            last_error_ = errno;
            LOG(Agent).warn("the service manager's socket: {} (a notification is lost)",
                            std::strerror(errno));
        }
        return 0;
    }
    last_error_ = 0;
    return 0;
}

void NotifySocket::flush() {
    while (!queue_.empty()) {
        if (sendNow(queue_.front().text, queue_.front().fd.get()) == EAGAIN) return;
        if (queue_.front().fd) --queued_fds_;
        queue_.pop_front();
    }
    if (interest_ != 0) watch_.modify(interest_ = 0);
}

void NotifySocket::onEvents(std::uint32_t events) {
    if ((events & EPOLLERR) != 0) {
        int err = 0;
        socklen_t len = sizeof err;
        (void)::getsockopt(sock_.get(), SOL_SOCKET, SO_ERROR, &err, &len);  // clears it
    }
    flush();
}

}  // namespace vmpower

// The fd store's side of systemd's protocol, on a datagram socket pair that
// plays the service manager: names, FDSTORE with the socket, FDSTOREREMOVE,
// nothing removed while the agent stops, and the non-blocking notification
// socket keeping order while the manager is behind.
#include "fd_store.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstring>
#include <string>

#include "event_loop.h"

namespace vmpower {
namespace {

struct Received {
    std::string text;
    UniqueFd fd;
};

// One datagram from the manager's end; empty text when none waits.
Received receive(int manager) {
    char buf[512];
    iovec iov{buf, sizeof buf};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(manager, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) return {};
    Received r{std::string(buf, static_cast<std::size_t>(n)), {}};
    if (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr && c->cmsg_type == SCM_RIGHTS) {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
        r.fd.reset(fd);
    }
    return r;
}

struct ManagerPair {
    ManagerPair() {
        EventLoop::registerImpl();
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
        manager.reset(fds[0]);
        agent.reset(fds[1]);
    }
    UniqueFd manager, agent;
};

bool sameFile(int a, int b) {
    struct stat sa {
    }, sb{};
    return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
           sa.st_dev == sb.st_dev;
}

TEST(FdStore, NamesAChannelByItsDomainAndIndexOnly) {
    const std::string uuid = "8f2c6a52-3b1d-4e55-9a0e-0c1d2e3f4a5b";
    EXPECT_EQ(FdStore::nameFor(uuid, 3), "ch-" + uuid + "-3");
    EXPECT_FALSE(FdStore::nameFor("", 0));
    EXPECT_FALSE(FdStore::nameFor("a:b", 0));  // ':' separates LISTEN_FDNAMES
    EXPECT_FALSE(FdStore::nameFor("a\nFDSTOREREMOVE=1", 0));
    EXPECT_FALSE(FdStore::nameFor(std::string(260, 'a'), 0));
}

TEST(FdStore, StoresAConnectedSocketAndRemovesItWhenTheChannelCloses) {
    ManagerPair pair;
    FdBudget budget(16);
    FdStore store(std::make_unique<NotifySocket>(std::move(pair.agent)), budget);
    int channel[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, channel), 0);
    UniqueFd ours(channel[0]), qemu(channel[1]);

    store.kept("u-1", 0, ours.get());
    Received stored = receive(pair.manager.get());
    EXPECT_EQ(stored.text, "FDSTORE=1\nFDNAME=ch-u-1-0");
    ASSERT_TRUE(stored.fd);
    EXPECT_TRUE(sameFile(stored.fd.get(), ours.get()));

    store.released("u-1", 0);
    EXPECT_EQ(receive(pair.manager.get()).text, "FDSTOREREMOVE=1\nFDNAME=ch-u-1-0");

    // The agent stops: its channels stay stored, but for one torn mid-record.
    store.agentStopping();
    store.released("u-1", 1);
    store.torn("u-1", 2);
    EXPECT_EQ(receive(pair.manager.get()).text, "FDSTOREREMOVE=1\nFDNAME=ch-u-1-2");
    EXPECT_EQ(receive(pair.manager.get()).text, "");
    EXPECT_FALSE(store.adopt("u-1", 0).fd);  // nothing came from a previous run
}

TEST(NotifySocket, KeepsOrderWhileTheManagerIsBehindAndNeverWaits) {
    ManagerPair pair;
    NotifySocket notify(std::move(pair.agent));
    constexpr int kMessages = 3000;  // more than any max_dgram_qlen's queue
    for (int i = 0; i < kMessages; ++i) EXPECT_TRUE(notify.send("N=" + std::to_string(i)));
    EXPECT_GT(notify.waiting(), 0u) << "the manager's queue should have filled";

    // While queued, a copy of each socket waits too: a bounded number.
    int channel[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, channel), 0);
    UniqueFd ours(channel[0]), qemu(channel[1]);
    int sent_with_fd = 0;
    while (notify.send("FDSTORE=1", ours.get())) ++sent_with_fd;
    EXPECT_EQ(sent_with_fd, static_cast<int>(FdBudget::kNotifyQueued));

    int next = 0, stored = 0;
    while (next < kMessages || stored < sent_with_fd) {
        for (Received r = receive(pair.manager.get()); !r.text.empty();
             r = receive(pair.manager.get())) {
            if (next < kMessages) {
                EXPECT_EQ(r.text, "N=" + std::to_string(next++));
            } else {
                EXPECT_EQ(r.text, "FDSTORE=1");
                EXPECT_TRUE(r.fd && sameFile(r.fd.get(), ours.get()));
                ++stored;
            }
        }
        if (notify.waiting() > 0) EventLoop::runOnce();  // writable again: flushes
    }
    EXPECT_EQ(next, kMessages);
    EXPECT_EQ(stored, sent_with_fd);
}

}  // namespace
}  // namespace vmpower

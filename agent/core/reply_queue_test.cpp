#include "reply_queue.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "unique_fd.h"

namespace vmpower {
namespace {

std::vector<std::byte> record(std::size_t size, unsigned char fill) {
    return std::vector<std::byte>(size, std::byte{fill});
}

struct SocketPair {
    UniqueFd a, b;
    SocketPair() {
        int fds[2];
        EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
        a.reset(fds[0]);
        b.reset(fds[1]);
    }
};

TEST(ReplyQueue, DropsOldestWholeRecordsWhenFull) {
    ReplyQueue q(2);
    q.push(record(4, 1));
    q.push(record(4, 2));
    q.push(record(4, 3));
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.dropped(), 1u);
    SocketPair p;
    ASSERT_TRUE(q.flush(p.a.get()));
    std::vector<unsigned char> got(16);
    ASSERT_EQ(read(p.b.get(), got.data(), got.size()), 8);
    EXPECT_EQ(got[0], 2);  // record 1 was the one dropped
    EXPECT_EQ(got[4], 3);
    EXPECT_EQ(q.sent(), 2u);
}

TEST(ReplyQueue, NeverBlocksAndNeverSendsHalfARecordAfterADrop) {
    SocketPair p;
    int small = 4096;
    setsockopt(p.a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ReplyQueue q(4);
    // Far more than the socket holds: the guest is not reading.
    for (unsigned i = 0; i < 1000; ++i) {
        q.push(record(464, static_cast<unsigned char>(i)));
        ASSERT_TRUE(q.flush(p.a.get()));
    }
    EXPECT_GT(q.dropped(), 0u);
    EXPECT_LE(q.size(), 4u);
    // Now the guest reads everything: the stream is whole records only.
    std::size_t total = 0;
    std::vector<unsigned char> buf(65536);
    for (int round = 0; round < 1000 && !(q.empty() && total > 0); ++round) {
        ASSERT_TRUE(q.flush(p.a.get()));
        ssize_t n = read(p.b.get(), buf.data(), buf.size());
        if (n > 0) total += static_cast<std::size_t>(n);
    }
    for (ssize_t n; (n = read(p.b.get(), buf.data(), buf.size())) > 0;) {
        total += static_cast<std::size_t>(n);
    }
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(total % 464, 0u);
    EXPECT_EQ(total / 464, q.sent());
    EXPECT_EQ(q.sent() + q.dropped(), 1000u);
}

}  // namespace
}  // namespace vmpower

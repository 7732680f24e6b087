#pragma once
// For the loop's unit tests: a connected, non-blocking AF_UNIX pair; a byte
// written to b makes a readable.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

#include "unique_fd.h"

namespace vmpower::testing {

struct SocketPair {
    UniqueFd a, b;
    SocketPair() {
        std::array<int, 2> fds{};
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds.data()),
                  0);
        a.reset(fds[0]);
        b.reset(fds[1]);
    }
    void send() { ASSERT_EQ(::write(b.get(), "x", 1), 1); }
    void drain() {
        char buf[64];
        while (::read(a.get(), buf, sizeof buf) > 0) {
        }
    }
};

}  // namespace vmpower::testing

// ControlServer: who may use the socket (SO_PEERCRED, decided at connect),
// and every bound a client could otherwise push the agent past. Clients with
// other credentials are connected by a forked child that drops privileges,
// connects and hands the socket back (SO_PEERCRED keeps the connector's
// credentials), so the test drives every client from one loop.
#include "control_server.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "clock.h"
#include "temp_dir.h"

namespace vmpower {
namespace {

using json = nlohmann::json;
constexpr gid_t kOperators = 4201, kReaders = 4202;
constexpr uid_t kUser = 4200;

UniqueFd connectTo(const std::filesystem::path& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return {};
    return fd;
}

// One byte carrying one fd (SCM_RIGHTS), for sendmsg and recvmsg alike.
struct FdMessage {
    FdMessage() {
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
    }
    FdMessage(const FdMessage&) = delete;
    FdMessage& operator=(const FdMessage&) = delete;
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
};

// Connects as uid kUser with the given groups, in a child.
UniqueFd connectAs(const std::filesystem::path& path, std::vector<gid_t> groups) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) return {};
    pid_t child = ::fork();
    if (child == 0) {
        gid_t primary = groups.empty() ? kUser : groups.front();
        if (::setgroups(groups.size(), groups.data()) < 0 || ::setgid(primary) < 0 ||
            ::setuid(kUser) < 0)
            ::_exit(1);
        UniqueFd fd = connectTo(path);
        if (!fd) ::_exit(2);
        FdMessage m;
        cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        int raw = fd.get();
        std::memcpy(CMSG_DATA(c), &raw, sizeof raw);
        ::_exit(::sendmsg(pair[1], &m.msg, 0) == 1 ? 0 : 3);
    }
    ::close(pair[1]);
    UniqueFd ours(pair[0]);
    FdMessage m;
    int status = 0;
    ssize_t n = ::recvmsg(ours.get(), &m.msg, 0);
    ::waitpid(child, &status, 0);
    cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
    if (n != 1 || c == nullptr || c->cmsg_type != SCM_RIGHTS) return {};
    int raw = -1;
    std::memcpy(&raw, CMSG_DATA(c), sizeof raw);
    return UniqueFd(raw);
}

class ControlServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(::geteuid(), 0u) << "connecting as other users needs root (as CI runs it)";
    }
    void startServer(ControlServerOptions o = {}) {
        // Other users must reach the socket to be judged by the server.
        std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
        o.path = dir_.path() / "ctl.sock";
        o.groups = {kOperators, kReaders};
        server_ = std::make_unique<ControlServer>(
            retries_, std::move(o), [this](const json& req, ControlAccess access) {
                ++handled_;
                json out = {{"ok", true},
                            {"access", access == ControlAccess::Full ? "full" : "read-only"}};
                if (req.contains("pad"))
                    out["pad"] = std::string(req["pad"].get<std::size_t>(), 'x');
                return out;
            });
    }
    // Turns the loop (10 ms ticks) until pred() or ~5 s.
    template <typename Pred>
    bool turnUntil(Pred pred, int max_turns = 500) {
        EventLoop::Timer tick([] {});
        for (int i = 0; i < max_turns && !pred(); ++i) {
            tick.arm(std::chrono::milliseconds(10));
            EventLoop::runOnce();
        }
        return pred();
    }
    // Sends one line and waits for one line back ("" on EOF).
    std::string ask(int fd, const std::string& line) {
        EXPECT_EQ(::send(fd, line.data(), line.size(), MSG_NOSIGNAL), ssize_t(line.size()));
        return readLine(fd);
    }
    std::string readLine(int fd) {
        std::string got;
        turnUntil([&] {
            char buf[4096];
            ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) got.append(buf, static_cast<std::size_t>(n));
            return n == 0 || got.find('\n') != std::string::npos;
        });
        return got;
    }
    bool closedByServer(int fd) {
        return turnUntil([&] {
            char buf[65536];
            ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            return n == 0 || (n < 0 && errno == ECONNRESET);
        });
    }

    // A server whose handler answers {"later_ms": N} N ms later through its
    // ControlReply ({"keep": false}: drops the reply unanswered), and every
    // other request at once; each answer echoes the request's "id".
    void startAsyncServer() {
        ControlServerOptions o;
        o.path = dir_.path() / "async.sock";
        server_ = std::make_unique<ControlServer>(
            retries_, std::move(o),
            [this](const json& req, ControlAccess, ControlReply& later) -> std::optional<json> {
                ++handled_;
                json out = {{"ok", true}, {"id", req.value("id", 0)}};
                if (!req.contains("later_ms")) return out;
                if (req.value("keep", true)) {
                    auto reply = std::make_shared<ControlReply>(std::move(later));
                    late_.push_back(retries_.schedule(
                        std::chrono::milliseconds(req["later_ms"].get<int>()), [this, reply, out] {
                            still_waiting_.push_back(reply->waiting());
                            (*reply)(out);
                            ++answered_later_;
                        }));
                }
                return std::nullopt;
            });
    }
    // Reads `count` lines (or until ~5 s pass).
    std::vector<json> readLines(int fd, std::size_t count) {
        std::string got;
        std::vector<json> lines;
        turnUntil(
            [&] {
                char buf[65536];
                ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n > 0) got.append(buf, static_cast<std::size_t>(n));
                for (auto nl = got.find('\n'); nl != std::string::npos; nl = got.find('\n')) {
                    lines.push_back(json::parse(got.substr(0, nl)));
                    got.erase(0, nl + 1);
                }
                return lines.size() >= count || n == 0;
            },
            1000);
        return lines;
    }

    struct LoopFirst {  // the loop before the members that add timers
        LoopFirst() { EventLoop::registerImpl(); }
    } loop_;
    test::TempDir dir_;
    SteadyClock clock_;
    RetryScheduler retries_{clock_};
    std::vector<RetryScheduler::Call> late_;
    std::vector<bool> still_waiting_;
    int answered_later_ = 0;
    std::unique_ptr<ControlServer> server_;
    int handled_ = 0;
};

TEST_F(ControlServerTest, RootAndOperatorsGetEveryCommandReadersOnlyReading) {
    startServer();
    UniqueFd root = connectTo(server_->path());
    ASSERT_TRUE(root);
    EXPECT_EQ(json::parse(ask(root.get(), "{}\n"))["access"], "full");
    UniqueFd op = connectAs(server_->path(), {kOperators});
    ASSERT_TRUE(op);
    EXPECT_EQ(json::parse(ask(op.get(), "{}\n"))["access"], "full");
    UniqueFd reader = connectAs(server_->path(), {kUser, kReaders});  // supplementary
    ASSERT_TRUE(reader);
    EXPECT_EQ(json::parse(ask(reader.get(), "{}\n"))["access"], "read-only");
}

TEST_F(ControlServerTest, AnybodyElseIsRefusedAndNeverReachesACommand) {
    startServer();
    UniqueFd stranger = connectAs(server_->path(), {});
    ASSERT_TRUE(stranger);
    json refusal = json::parse(readLine(stranger.get()));
    EXPECT_EQ(refusal["ok"], false);
    EXPECT_NE(refusal["error"].get<std::string>().find("permission denied: uid 4200"),
              std::string::npos)
        << refusal;
    EXPECT_TRUE(closedByServer(stranger.get()));
    EXPECT_EQ(handled_, 0);
    EXPECT_EQ(server_->clients(), 0u);
}

TEST_F(ControlServerTest, ASocketModeLetsGroupsInOnlyWhenGroupsAreConfigured) {
    startServer();
    struct stat st {};
    ASSERT_EQ(::stat(server_->path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0666u) << "SO_PEERCRED is the gate when groups are set";
    server_.reset();
    ControlServerOptions o;
    o.path = dir_.path() / "root-only.sock";
    ControlServer root_only(retries_, o, [](const json&, ControlAccess) { return json{}; });
    ASSERT_EQ(::stat(root_only.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ControlServerTest, AnOverlongLineIsAnsweredAndTheClientDropped) {
    startServer();
    UniqueFd root = connectTo(server_->path());
    std::string mib(1 << 20, 'x');
    // The server answers and closes before taking it all: send what fits.
    std::size_t sent = 0;
    turnUntil([&] {
        ssize_t n =
            ::send(root.get(), mib.data() + sent, mib.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) sent += static_cast<std::size_t>(n);
        return sent == mib.size() || (n < 0 && errno != EAGAIN);
    });
    std::string answer = readLine(root.get());
    EXPECT_NE(answer.find("request longer than 65536 bytes"), std::string::npos) << answer;
    EXPECT_TRUE(closedByServer(root.get()));
    EXPECT_EQ(handled_, 0);
}

TEST_F(ControlServerTest, AClientThatDoesNotReadIsDroppedNotBuffered) {
    ControlServerOptions o;
    o.max_unread_output = 256 * 1024;
    startServer(o);
    UniqueFd slow = connectTo(server_->path());
    int small = 4096;
    ::setsockopt(slow.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    ASSERT_TRUE(turnUntil([&] { return server_->clients() == 1; }));
    const std::string req = R"({"pad": 60000})"
                            "\n";
    for (int i = 0; i < 64 && server_->clients() == 1; ++i) {
        ::send(slow.get(), req.data(), req.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        turnUntil([] { return false; }, 2);
    }
    EXPECT_TRUE(turnUntil([&] { return server_->clients() == 0; }));
    EXPECT_LT(handled_, 64) << "dropped once its unread replies passed the bound";
}

TEST_F(ControlServerTest, IdleClientsAreBoundedAndDroppedRootIsStillServed) {
    ControlServerOptions o;
    o.idle_timeout = std::chrono::milliseconds(3000);  // longer than connecting 100 takes
    startServer(o);
    std::vector<UniqueFd> idle;
    for (int i = 0; i < 100; ++i) {
        idle.push_back(connectAs(server_->path(), {kReaders}));
        turnUntil([] { return false; }, 1);  // accepts (or refuses): the backlog never fills
    }
    turnUntil([&] { return server_->clients() >= 16; });
    turnUntil([] { return false; }, 5);
    EXPECT_EQ(server_->clients(), 16u) << "16 non-root clients at most";
    UniqueFd root = connectTo(server_->path());
    EXPECT_EQ(json::parse(ask(root.get(), "{}\n"))["access"], "full") << "root keeps a way in";
    // Idle ones go; the root client that just spoke stays a little longer.
    EXPECT_TRUE(turnUntil([&] { return server_->clients() <= 1; }, 1000));
    EXPECT_TRUE(turnUntil([&] { return server_->clients() == 0; }, 1000));
}

TEST_F(ControlServerTest, AtEmfileTheListenerPausesInsteadOfSpinningAndRecovers) {
    ControlServerOptions o;
    o.accept_backoff = std::chrono::milliseconds(100);
    startServer(o);
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
    // Fill the table: no fd is left for accept().
    std::vector<UniqueFd> hog;
    UniqueFd waiting = connectTo(server_->path());  // before the table is full
    ASSERT_TRUE(waiting);
    int probe = ::dup(0);
    rlimit low = old;
    low.rlim_cur = static_cast<rlim_t>(probe + 1);
    ::close(probe);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    while (true) {
        UniqueFd fd(::dup(0));
        if (!fd) break;
        hog.push_back(std::move(fd));
    }
    // 300 ms of loop turns: a spinning loop turns thousands of times.
    int turns = 0;
    EventLoop::Timer tick([] {});
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (std::chrono::steady_clock::now() < until) {
        tick.arm(std::chrono::milliseconds(50));
        EventLoop::runOnce();
        ++turns;
    }
    EXPECT_LT(turns, 40) << "the listener is not polled while accept() cannot succeed";
    EXPECT_EQ(server_->clients(), 0u);
    hog.clear();
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
    EXPECT_EQ(json::parse(ask(waiting.get(), "{}\n"))["access"], "full") << "recovered";
}

TEST_F(ControlServerTest, PipelinedCommandsAreAnsweredInOrderOverSeveralTurns) {
    startServer();
    UniqueFd root = connectTo(server_->path());
    ASSERT_TRUE(root);
    std::string burst;
    for (int i = 0; i < 200; ++i) burst += R"({"cmd": "ping", "pad": )" + std::to_string(i) + "}\n";
    ASSERT_EQ(::send(root.get(), burst.data(), burst.size(), MSG_NOSIGNAL), ssize_t(burst.size()));
    const std::uint64_t turns_before = EventLoop::turns().turns;
    const std::vector<json> answers = readLines(root.get(), 200);
    ASSERT_EQ(answers.size(), 200u);
    for (std::size_t i = 0; i < answers.size(); ++i)
        EXPECT_EQ(answers[i]["pad"].get<std::string>().size(), i) << "answered out of order";
    EXPECT_EQ(handled_, 200);
    // 8 a turn: at least 25 turns, the rest continued on later ones.
    EXPECT_GE(server_->continuations(), 200u / ControlServer::kCommandsPerTurn - 1);
    EXPECT_GE(EventLoop::turns().turns - turns_before, 200u / ControlServer::kCommandsPerTurn);
}

TEST_F(ControlServerTest, AnAnswerGivenLaterKeepsTheClientsOrder) {
    startAsyncServer();
    UniqueFd root = connectTo(server_->path());
    ASSERT_TRUE(root);
    const std::string two = "{\"id\": 1, \"later_ms\": 50}\n{\"id\": 2}\n";
    const auto sent = std::chrono::steady_clock::now();
    ASSERT_EQ(::send(root.get(), two.data(), two.size(), MSG_NOSIGNAL), ssize_t(two.size()));
    const std::vector<json> answers = readLines(root.get(), 2);
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[0]["id"], 1);
    EXPECT_EQ(answers[1]["id"], 2) << "the second waited for the first's answer";
    EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(50));
    EXPECT_EQ(answered_later_, 1);
    EXPECT_EQ(still_waiting_, std::vector<bool>{true});
    // The client goes on as before.
    EXPECT_EQ(json::parse(ask(root.get(), "{\"id\": 3}\n"))["id"], 3);
}

TEST_F(ControlServerTest, AClientGoneBeforeItsLateAnswerIsNeverCalledBack) {
    startAsyncServer();
    UniqueFd root = connectTo(server_->path());
    ASSERT_TRUE(root);
    const std::string one = "{\"id\": 1, \"later_ms\": 50}\n{\"id\": 2}\n";
    ASSERT_EQ(::send(root.get(), one.data(), one.size(), MSG_NOSIGNAL), ssize_t(one.size()));
    ASSERT_TRUE(turnUntil([&] { return handled_ == 1; }));
    root.reset();  // gone while its answer is owed
    EXPECT_TRUE(turnUntil([&] { return server_->clients() == 0; }));
    EXPECT_TRUE(turnUntil([&] { return answered_later_ == 1; }));
    EXPECT_EQ(still_waiting_, std::vector<bool>{false});
    EXPECT_EQ(handled_, 1) << "the line after the owed answer was never served";
}

TEST_F(ControlServerTest, AReplyDroppedUnansweredTellsTheClientAndItGoesOn) {
    startAsyncServer();
    UniqueFd root = connectTo(server_->path());
    ASSERT_TRUE(root);
    const std::string two = "{\"id\": 1, \"later_ms\": 0, \"keep\": false}\n{\"id\": 2}\n";
    ASSERT_EQ(::send(root.get(), two.data(), two.size(), MSG_NOSIGNAL), ssize_t(two.size()));
    const std::vector<json> answers = readLines(root.get(), 2);
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[0]["ok"], false);
    EXPECT_EQ(answers[0]["error"], "internal error: the command gave no answer");
    EXPECT_EQ(answers[1]["id"], 2);
}

}  // namespace
}  // namespace vmpower

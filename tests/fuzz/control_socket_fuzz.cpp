// The control socket's own layer (ControlServer: framing, line bounds,
// reply queue, dropping clients), not only the commands behind it: the
// input is the byte stream one client sends. Whatever it sends, the server
// answers only whole JSON lines, each an object with "ok", and stays up for
// the next client. The handler stands in for the agent and echoes.
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "clock.h"
#include "control_server.h"
#include "fuzz_world.h"
#include "temp_dir.h"

namespace {

using json = nlohmann::json;

struct World {
    bool loop = (vmpower::EventLoop::registerImpl(), true);
    vmpower::test::TempDir dir;
    vmpower::SteadyClock clock;
    vmpower::RetryScheduler retries{clock};
    std::unique_ptr<vmpower::ControlServer> server;

    World() {
        spdlog::set_level(spdlog::level::off);
        vmpower::ControlServerOptions o;
        o.path = dir.path() / "ctl.sock";
        o.max_line = 4096;  // small bounds, so short inputs reach them
        o.max_unread_output = 16 * 1024;
        server = std::make_unique<vmpower::ControlServer>(
            retries, o, [](const json& req, vmpower::ControlAccess) {
                return json{{"ok", true}, {"echo", req}};
            });
    }

    void turn() {
        vmpower::EventLoop::Timer tick([] {});
        tick.arm(std::chrono::milliseconds(1));
        vmpower::EventLoop::runOnce();
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    World* world = &vmpower::test::fuzzWorld<World>();  // one for the whole run
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, world->server->path().c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) __builtin_trap();
    std::size_t sent = 0;
    std::string replies;
    for (int turns = 0; turns < 2000; ++turns) {
        if (sent < size) {
            ssize_t n = ::send(fd, data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) sent += static_cast<std::size_t>(n);
            if (n < 0 && errno != EAGAIN) sent = size;  // dropped by the server
            if (sent == size) ::shutdown(fd, SHUT_WR);
        }
        world->turn();
        char buf[65536];
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) replies.append(buf, static_cast<std::size_t>(n));
        if (n == 0 || (n < 0 && errno != EAGAIN)) break;  // the server closed
    }
    ::close(fd);
    for (int i = 0; i < 4 && world->server->clients() > 0; ++i) world->turn();
    if (world->server->clients() != 0) __builtin_trap();  // a closed client lingers
    // Every reply is a whole line holding a JSON object with "ok".
    std::size_t start = 0;
    for (std::size_t nl = replies.find('\n'); nl != std::string::npos;
         start = nl + 1, nl = replies.find('\n', start)) {
        json r = json::parse(replies.substr(start, nl - start), nullptr, false);
        if (!r.is_object() || !r.contains("ok")) __builtin_trap();
    }
    return 0;
}

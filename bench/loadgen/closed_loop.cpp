#include "closed_loop.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <stdexcept>

#include "vmpower/protocol.h"

namespace vmpower::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Record = std::array<char, VMPOWER_PACKET_SIZE>;

Record record(std::uint32_t unit) {
    vmpower_packet p;
    std::memset(&p, 0, sizeof p);
    p.command = VMPOWER_CPU_POWER;
    p.unit = unit;
    p.resource_id = 0;  // vCPU 0 (pinned to pCPU 1 in the generated domains)
    std::strncpy(p.vm_name, "bench", sizeof p.vm_name - 1);
    Record r;
    std::memcpy(r.data(), &p, sizeof p);
    return r;
}

const Record kUp = record(VMPOWER_SCALE_UP);
const Record kDown = record(VMPOWER_SCALE_DOWN);
const Record kMax = record(VMPOWER_SCALE_MAX);

struct Slot {
    const Record* sent = nullptr;
    Clock::time_point at;
    std::size_t got = 0;
    bool up = false;
    bool dead = false;
    Record reply;
};

bool good(ReplyKind kind, const Slot& s) {
    if (kind == ReplyKind::Echo) return s.reply == *s.sent;
    std::uint32_t cmd;
    std::memcpy(&cmd, s.reply.data() + offsetof(vmpower_packet, command), sizeof cmd);
    return cmd == VMPOWER_CMD_ACK;
}

class Driver {
  public:
    Driver(const std::vector<UniqueFd>& conns, ReplyKind kind)
        : conns_(conns), kind_(kind), slots_(conns.size()), ep_(::epoll_create1(EPOLL_CLOEXEC)) {
        for (std::size_t i = 0; i < conns.size(); ++i) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = i;
            if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, conns[i].get(), &ev) < 0) {
                throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
            }
        }
    }

    void send(std::size_t i, const Record& r) {
        Slot& s = slots_[i];
        s.sent = &r;
        s.got = 0;
        s.at = Clock::now();
        ssize_t n = ::send(conns_[i].get(), r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n != static_cast<ssize_t>(r.size())) s.dead = true;  // the server went away
        else ++in_flight_;
    }

    // Waits up to `timeout` for replies; calls done(i, latency_us, good) for
    // each whole one.
    template <typename Done>
    void poll(std::chrono::milliseconds timeout, Done&& done) {
        epoll_event evs[256];
        int n = ::epoll_wait(ep_.get(), evs, 256, static_cast<int>(timeout.count()));
        for (int k = 0; k < n; ++k) {
            const std::size_t i = evs[k].data.u64;
            Slot& s = slots_[i];
            if (s.dead || s.sent == nullptr) continue;
            ssize_t r = ::recv(conns_[i].get(), s.reply.data() + s.got, s.reply.size() - s.got,
                               MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                s.dead = true;
                --in_flight_;
                ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, conns_[i].get(), nullptr);
                continue;
            }
            if (r < 0) continue;
            s.got += static_cast<std::size_t>(r);
            if (s.got < s.reply.size()) continue;
            const auto us = std::chrono::duration<double, std::micro>(Clock::now() - s.at).count();
            --in_flight_;
            const bool ok = good(kind_, s);
            s.sent = nullptr;
            done(i, us, ok);
        }
    }

    Slot& slot(std::size_t i) { return slots_[i]; }
    std::size_t inFlight() const { return in_flight_; }
    std::size_t size() const { return slots_.size(); }

  private:
    const std::vector<UniqueFd>& conns_;
    ReplyKind kind_;
    std::vector<Slot> slots_;
    UniqueFd ep_;
    std::size_t in_flight_ = 0;
};

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    return sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))];
}

}  // namespace

std::uint64_t primeChannels(const std::vector<UniqueFd>& conns, ReplyKind kind,
                            std::chrono::milliseconds timeout) {
    Driver d(conns, kind);
    for (std::size_t i = 0; i < d.size(); ++i) d.send(i, kMax);
    std::uint64_t ok = 0;
    const auto deadline = Clock::now() + timeout;
    while (d.inFlight() > 0 && Clock::now() < deadline) {
        d.poll(std::chrono::milliseconds(50), [&](std::size_t, double, bool g) { ok += g; });
    }
    return ok;
}

LoopResult runClosedLoop(const std::vector<UniqueFd>& conns, ReplyKind kind,
                         std::chrono::milliseconds warmup, std::chrono::milliseconds duration) {
    Driver d(conns, kind);
    std::vector<double> us;
    us.reserve(1 << 20);
    LoopResult out;
    const auto start = Clock::now();
    const auto measure_from = start + warmup;
    const auto stop_at = measure_from + duration;
    bool measuring = false, sending = true;
    for (std::size_t i = 0; i < d.size(); ++i) d.send(i, kUp), d.slot(i).up = true;
    auto done = [&](std::size_t i, double lat, bool ok) {
        if (measuring) {
            ++out.requests;
            ok ? ++out.good : ++out.bad;
            us.push_back(lat);
        }
        if (sending) {
            Slot& s = d.slot(i);
            s.up = !s.up;
            d.send(i, s.up ? kUp : kDown);
        }
    };
    while (sending) {
        d.poll(std::chrono::milliseconds(100), done);
        const auto now = Clock::now();
        if (!measuring && now >= measure_from) {
            measuring = true;
            // Only requests sent from now on count as measured.
        }
        if (now >= stop_at) sending = false;
        if (d.inFlight() == 0 && sending) break;  // every channel dead
    }
    out.seconds = std::chrono::duration<double>(std::min(Clock::now(), stop_at) - measure_from).count();
    measuring = false;  // the drain is not measured
    const auto drain_until = Clock::now() + std::chrono::seconds(2);
    while (d.inFlight() > 0 && Clock::now() < drain_until) d.poll(std::chrono::milliseconds(50), done);
    out.lost = d.inFlight();
    for (std::size_t i = 0; i < d.size(); ++i) out.lost += d.slot(i).dead ? 1 : 0;
    std::sort(us.begin(), us.end());
    out.p50_us = percentile(us, 0.50);
    out.p99_us = percentile(us, 0.99);
    out.p999_us = percentile(us, 0.999);
    out.max_us = us.empty() ? 0 : us.back();
    return out;
}

}  // namespace vmpower::bench

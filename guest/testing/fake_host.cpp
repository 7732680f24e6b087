#include "fake_host.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace vmpower::testing {

FakeHost::FakeHost(unsigned port) {
    char tmpl[] = "/tmp/vmpower-guest-test-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master_ < 0 || grantpt(master_) != 0 || unlockpt(master_) != 0)
        throw std::runtime_error("no pty");
    termios raw{};
    tcgetattr(master_, &raw);
    cfmakeraw(&raw);  // bytes pass unchanged, no echo
    tcsetattr(master_, TCSANOW, &raw);
    link_ = dir_ + "/" + VMPOWER_PORT_PREFIX + std::to_string(port);
    std::filesystem::create_symlink(ptsname(master_), link_);
}

FakeHost::~FakeHost() {
    hangUp();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::optional<Bytes> FakeHost::read(std::size_t size, int timeout_ms) {
    Bytes out(size);
    std::size_t got = 0;
    // While no guest has the port open the master reports POLLHUP: a guest
    // that opens the port for each query (vmpower-guest powercap) is
    // waited for, up to the timeout.
    for (int waited = 0; got < size;) {
        pollfd p{master_, POLLIN, 0};
        if (waited >= timeout_ms || poll(&p, 1, timeout_ms - waited) <= 0) return std::nullopt;
        if (!(p.revents & POLLIN)) {
            usleep(5000);
            waited += 5;
            continue;
        }
        ssize_t n = ::read(master_, out.data() + got, size - got);
        if (n <= 0) return std::nullopt;
        got += static_cast<std::size_t>(n);
    }
    return out;
}

void FakeHost::write(const Bytes& bytes) {
    if (::write(master_, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
        throw std::runtime_error("short write to the pty");
}

bool FakeHost::waitGuestPending(std::size_t size, int timeout_ms) {
    // The slave's input queue is shared by all its fds: look through our own.
    int fd = open(link_.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = false;
    for (int waited = 0; !ok && waited < timeout_ms; waited += 5) {
        int n = 0;
        ok = ioctl(fd, FIONREAD, &n) == 0 && static_cast<std::size_t>(n) == size;
        if (!ok) usleep(5000);
    }
    close(fd);
    return ok;
}

void FakeHost::hangUp() {
    if (master_ >= 0) close(master_);
    master_ = -1;
}

Bytes request(std::uint64_t resource_id, std::uint32_t unit, std::uint32_t command) {
    Bytes b(VMPOWER_PACKET_SIZE, 0);
    std::memcpy(b.data(), &resource_id, 8);
    std::memcpy(b.data() + 8, &unit, 4);
    std::memcpy(b.data() + 12, &command, 4);
    return b;
}

Bytes echo(const Bytes& req, std::uint32_t command) {
    Bytes b = req;
    std::memcpy(b.data() + 12, &command, 4);
    return b;
}

Bytes freqList(std::uint64_t resource_id, std::uint32_t unit, std::uint8_t num_vcpu,
               std::uint32_t first_khz) {
    vmpower_freq_list r;
    std::memset(&r, 0, sizeof r);  // padding too
    r.resource_id = resource_id;
    r.unit = unit;
    r.command = VMPOWER_FREQ_LIST;
    for (std::uint32_t i = 0; i < VMPOWER_MAX_VCPU_PER_VM; ++i) r.freq_list[i] = first_khz + i;
    r.num_vcpu = num_vcpu;
    Bytes b(sizeof r);
    std::memcpy(b.data(), &r, sizeof r);
    return b;
}

Bytes capsList(std::uint64_t resource_id, std::uint32_t unit, std::uint8_t num_vcpu) {
    vmpower_caps_list r;
    std::memset(&r, 0, sizeof r);
    r.resource_id = resource_id;
    r.unit = unit;
    r.command = VMPOWER_CAPS_LIST;
    r.turbo[1] = 1;
    r.priority[0] = 1;
    r.num_vcpu = num_vcpu;
    Bytes b(sizeof r);
    std::memcpy(b.data(), &r, sizeof r);
    return b;
}

void putLe(Bytes& b, std::size_t offset, std::uint64_t v, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) b[offset + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

Bytes energyReply(const Bytes& req, const EnergyNumbers& n) {
    using E = vmpower_energy;
    Bytes b(VMPOWER_ENERGY_SIZE, 0);
    std::copy(req.begin(), req.begin() + offsetof(E, flags), b.begin());
    putLe(b, offsetof(E, command), VMPOWER_ENERGY, 4);
    putLe(b, offsetof(E, flags), n.flags, 4);
    putLe(b, offsetof(E, num_vcpu), n.vcpu_uj.size(), 4);
    putLe(b, offsetof(E, energy_uj), n.energy_uj, 8);
    putLe(b, offsetof(E, watched_ms), n.watched_ms, 8);
    putLe(b, offsetof(E, power_mw), 1500, 4);
    putLe(b, offsetof(E, interval_ms), 1000, 4);
    for (std::size_t i = 0; i < n.vcpu_uj.size() && i < VMPOWER_ENERGY_MAX_VCPUS; ++i)
        putLe(b, offsetof(E, vcpu_energy_uj) + 8 * i, n.vcpu_uj[i], 8);
    return b;
}

}  // namespace vmpower::testing

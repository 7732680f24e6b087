#include "servers.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "unique_fd.h"
#include "vmpower/protocol.h"

namespace vmpower::bench {
namespace fs = std::filesystem;

ServerProcess::~ServerProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {  // vmpowerd restores the tree at exit
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
}

bool ServerProcess::running() const {
    return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0;
}

void pinTo(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
        throw std::runtime_error("cannot pin to CPU " + std::to_string(cpu) + ": " +
                                 std::strerror(errno));
    }
}

namespace {

int connectBlocking(const fs::path& p) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, p.c_str(), sizeof addr.sun_path - 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return -1;
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

// The floor: per request exactly epoll_wait (shared by whatever is ready),
// read, write. Runs in the forked child until killed.
[[noreturn]] void echoForever(const std::vector<fs::path>& sockets) {
    struct Conn {
        int fd;
        std::size_t got = 0;
        std::array<char, VMPOWER_PACKET_SIZE> buf;
    };
    std::vector<Conn> conns;
    conns.reserve(sockets.size());
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (const auto& p : sockets) {
        int fd = connectBlocking(p);
        if (fd < 0) ::_exit(3);
        conns.push_back(Conn{fd, 0, {}});
    }
    for (std::size_t i = 0; i < conns.size(); ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    }
    epoll_event evs[256];
    while (true) {
        int n = ::epoll_wait(ep, evs, 256, -1);
        for (int k = 0; k < n; ++k) {
            Conn& c = conns[evs[k].data.u64];
            ssize_t r = ::read(c.fd, c.buf.data() + c.got, c.buf.size() - c.got);
            if (r == 0) ::_exit(0);
            if (r < 0) continue;
            c.got += static_cast<std::size_t>(r);
            if (c.got == c.buf.size()) {
                if (::write(c.fd, c.buf.data(), c.buf.size()) < 0) ::_exit(4);
                c.got = 0;
            }
        }
    }
}

std::string uuidOf(unsigned d) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012u", d);
    return buf;
}

void writeText(const fs::path& p, const std::string& text) {
    std::ofstream out(p);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

}  // namespace

ServerProcess startEchoFloor(const std::vector<fs::path>& sockets, int cpu) {
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        try {
            pinTo(cpu);
        } catch (...) {
            ::_exit(5);
        }
        echoForever(sockets);
    }
    return ServerProcess(pid);
}

ServerProcess startVmpowerd(const VmpowerdSetup& s, int cpu) {
    std::ostringstream xml;
    xml << "<node><cpu><mode>host-model</mode></cpu>\n";
    for (unsigned d = 0; d < s.domains; ++d) {
        xml << "<domain type='test'><name>bench" << d << "</name><uuid>" << uuidOf(d)
            << "</uuid><memory>1048576</memory><vcpu>2</vcpu>"
               "<cputune><vcpupin vcpu='0' cpuset='1'/><emulatorpin cpuset='1'/></cputune>"
               "<os><type>hvm</type></os><devices>"
               "<controller type='virtio-serial' index='0'/>\n";
        for (unsigned c = 0; c < s.channels_per_domain; ++c) {
            xml << "<channel type='unix'><source mode='bind' path='"
                << (s.socket_dir / ("s" + std::to_string(d * s.channels_per_domain + c))).string()
                << "'/><target type='virtio' name='" VMPOWER_PORT_PREFIX << c
                << "'/></channel>\n";
        }
        xml << "</devices></domain>\n";
    }
    xml << "</node>\n";
    writeText(s.dir / "node.xml", xml.str());
    fs::copy(s.fixture_tree, s.dir / "sys", fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    writeText(s.dir / "vmpower.yaml",
              "agent:\n"
              "  sysfs_root: " + (s.dir / "sys").string() + "\n"
              "  state_dir: " + (s.dir / "state").string() + "\n"
              "  control_socket: " + (s.dir / "ctl.sock").string() + "\n"
              "  verify_channel_peer: false\n"
              "  log_level: warn\n"
              "vms:\n"
              "  - name: \"*\"\n"
              "    commands: [up, down, max]\n"
              "    rate: 0\n");
    const std::string uri = "test://" + (s.dir / "node.xml").string();
    const std::string config = (s.dir / "vmpower.yaml").string();
    const std::string log = (s.dir / "vmpowerd.log").string();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        try {
            pinTo(cpu);
        } catch (...) {
            ::_exit(5);
        }
        ::execl(s.binary.c_str(), s.binary.c_str(), "--connect", uri.c_str(), "--config",
                config.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    return ServerProcess(pid);
}

std::optional<std::uint64_t> residentKb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    }
    return std::nullopt;
}

std::optional<std::uint64_t> cpuNs(pid_t pid) {
    // utime + stime of the whole process, in clock ticks (schedstat's ns
    // would be finer, but this kernel leaves it at 0: sched_info is off).
    // 10 ms ticks: over 60 s one tick is 0.017 %.
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    std::uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {  // state is field 3
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    const long hz = ::sysconf(_SC_CLK_TCK);
    return (utime + stime) * (1000000000ULL / static_cast<std::uint64_t>(hz > 0 ? hz : 100));
}

}  // namespace vmpower::bench

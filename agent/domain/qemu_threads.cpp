#include "qemu_threads.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <system_error>

#include "cpu_limits.h"
#include "unique_fd.h"

namespace vmpower {

namespace {

// A /proc stat line is well under 1 KiB; a longer "stat" is not one.
constexpr std::size_t kMaxStatBytes = 4096;

template <typename T>
bool parseWhole(std::string_view text, T& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

// The next space-separated token of `rest`, consumed from it.
std::string_view nextField(std::string_view& rest) {
    auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) {
        rest = {};
        return {};
    }
    rest.remove_prefix(start);
    auto end = std::min(rest.find(' '), rest.size());
    std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end);
    return field;
}

// One open/read/close: this runs for every QEMU thread on every sample, and
// an ifstream costs several times more.
std::optional<std::string> readSmallFile(const std::filesystem::path& file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return std::nullopt;
    char buf[kMaxStatBytes + 1];
    std::size_t got = 0;
    while (got < sizeof buf) {
        const ssize_t n = ::read(fd.get(), buf + got, sizeof buf - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got > kMaxStatBytes) return std::nullopt;
    return std::string(buf, got);
}

}  // namespace

std::optional<TaskStat> parseTaskStat(std::string_view text) {
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    const auto open = text.find('(');
    const auto close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return std::nullopt;
    TaskStat stat;
    stat.comm = std::string(text.substr(open + 1, close - open - 1));
    std::string_view rest = text.substr(close + 1);
    std::uint64_t utime = 0, stime = 0;
    // Fields 3 (state) .. 39 (processor) follow the ')'.
    for (int field = 3; field <= 39; ++field) {
        std::string_view f = nextField(rest);
        if (f.empty()) return std::nullopt;
        if (field == 14 && !parseWhole(f, utime)) return std::nullopt;
        if (field == 15 && !parseWhole(f, stime)) return std::nullopt;
        if (field == 22 && !parseWhole(f, stat.start_ticks)) return std::nullopt;
        if (field == 39 && !parseWhole(f, stat.processor)) return std::nullopt;
    }
    if (utime > UINT64_MAX - stime) return std::nullopt;
    stat.cpu_ticks = utime + stime;
    return stat;
}

std::optional<unsigned> vcpuOfThreadName(std::string_view comm) {
    constexpr std::string_view kPrefix = "CPU ";
    if (!comm.starts_with(kPrefix)) return std::nullopt;
    comm.remove_prefix(kPrefix.size());
    const auto slash = comm.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const std::string_view accel = comm.substr(slash + 1);
    if (accel != "KVM" && accel != "TCG") return std::nullopt;
    unsigned vcpu = 0;
    const std::string_view digits = comm.substr(0, slash);
    // QEMU writes the number plainly: "CPU 01/KVM" is some other thread.
    if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
    if (!parseWhole(digits, vcpu)) return std::nullopt;
    // A number no guest has: the name is not a vCPU's (and sizes nothing).
    if (vcpu >= kMaxVcpus) return std::nullopt;
    return vcpu;
}

QemuThreads readQemuThreads(const std::filesystem::path& proc_root, pid_t pid) {
    QemuThreads out;
    const auto task_dir = proc_root / std::to_string(pid) / "task";
    std::error_code ec;
    std::filesystem::directory_iterator it(task_dir, ec);
    if (ec) {
        out.error = task_dir.string() + ": " + ec.message();
        return out;
    }
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (ec) break;
        pid_t tid = 0;
        if (!parseWhole(it->path().filename().native(), tid) || tid <= 0) continue;
        if (out.threads.size() == kMaxQemuThreads) {
            out.error = task_dir.string() + ": more than " + std::to_string(kMaxQemuThreads) +
                        " threads; not a QEMU process";
            out.threads.clear();
            return out;
        }
        auto text = readSmallFile(it->path() / "stat");
        if (!text) continue;  // the thread exited meanwhile
        auto stat = parseTaskStat(*text);
        if (!stat) continue;
        QemuThread t;
        t.tid = tid;
        t.vcpu = vcpuOfThreadName(stat->comm);
        t.stat = std::move(*stat);
        out.threads.push_back(std::move(t));
    }
    if (ec) {
        out.error = task_dir.string() + ": " + ec.message();
        out.threads.clear();
        return out;
    }
    std::sort(out.threads.begin(), out.threads.end(),
              [](const QemuThread& a, const QemuThread& b) { return a.tid < b.tid; });
    return out;
}

std::vector<pid_t> vcpuThreadIds(const QemuThreads& threads) {
    std::vector<pid_t> out;
    for (const auto& t : threads.threads) {
        if (!t.vcpu) continue;  // below kMaxVcpus
        if (*t.vcpu >= out.size()) out.resize(*t.vcpu + 1, 0);
        out[*t.vcpu] = t.tid;
    }
    return out;
}

}  // namespace vmpower

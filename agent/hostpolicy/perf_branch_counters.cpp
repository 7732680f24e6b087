#include "perf_branch_counters.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "qemu_pid_file.h"
#include "qemu_threads.h"

namespace vmpower {

namespace {

int openCounter(std::uint64_t config, pid_t tid, int group) {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = config;
    attr.read_format = PERF_FORMAT_GROUP;
    attr.exclude_hv = 1;
    // pid = the vCPU thread, any CPU; no inherit: the thread is the vCPU.
    return static_cast<int>(
        ::syscall(SYS_perf_event_open, &attr, tid, -1, group, PERF_FLAG_FD_CLOEXEC));
}

}  // namespace

Verdict PerfBranchCounters::open(std::string_view uuid, std::string_view name,
                                 const std::vector<unsigned>& vcpus) {
    const QemuPidFile pid = readQemuPidFile(pid_dir_, name);
    if (pid.status != QemuPidFile::Status::Read)
        return Verdict::refused("QEMU's pid is unknown (" + pid.file + ": " + pid.why + ")");
    const QemuThreads threads = readQemuThreads(proc_root_, pid.pid);
    if (!threads.error.empty())
        return Verdict::refused("QEMU's threads are unreadable: " + threads.error);
    const std::vector<pid_t> tids = vcpuThreadIds(threads);
    std::vector<Group> groups;
    for (unsigned v : vcpus) {
        if (v >= tids.size() || tids[v] == 0)
            return Verdict::refused("no thread of QEMU (pid " + std::to_string(pid.pid) +
                                    ") runs vCPU " + std::to_string(v));
        Group g;
        g.branches.reset(openCounter(PERF_COUNT_HW_BRANCH_INSTRUCTIONS, tids[v], -1));
        if (g.branches)
            g.misses.reset(openCounter(PERF_COUNT_HW_BRANCH_MISSES, tids[v], g.branches.get()));
        if (!g.branches || !g.misses) {
            const int err = errno;
            std::string why = "perf_event_open for vCPU " + std::to_string(v) + "'s thread " +
                              std::to_string(tids[v]) + ": " + std::strerror(err);
            if (err == ENOENT || err == EOPNOTSUPP || err == ENODEV)
                why += " (this host has no hardware branch counters; inside a VM that is usual)";
            return Verdict::refused(why);
        }
        groups.push_back(std::move(g));
    }
    open_.insert_or_assign(std::string(uuid), std::move(groups));
    return Verdict::accepted();
}

void PerfBranchCounters::close(std::string_view uuid) {
    auto it = open_.find(uuid);
    if (it != open_.end()) open_.erase(it);
}

std::optional<BranchCounts> PerfBranchCounters::read(std::string_view uuid) {
    auto it = open_.find(uuid);
    if (it == open_.end()) return std::nullopt;
    BranchCounts sum;
    for (const Group& g : it->second) {
        // PERF_FORMAT_GROUP: nr, then one value per event, leader first.
        std::uint64_t values[3] = {};
        if (::read(g.branches.get(), values, sizeof values) != sizeof values || values[0] != 2)
            return std::nullopt;  // the thread (or QEMU) is gone
        sum.branches += values[1];
        sum.misses += values[2];
    }
    return sum;
}

}  // namespace vmpower

#pragma once
// A domain's QEMU threads as /proc shows them: which thread runs which
// vCPU (QEMU names them "CPU <n>/KVM" or "CPU <n>/TCG"), how much CPU time
// each has used and on which CPU each last ran. Read for energy accounting
// and for anything that needs a vCPU's thread id (perf events).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmpower {

// The fields of /proc/<pid>/task/<tid>/stat that we use.
struct TaskStat {
    std::string comm;               // field 2, without the parentheses
    std::uint64_t cpu_ticks = 0;    // utime + stime (fields 14, 15), clock ticks
    unsigned processor = 0;         // field 39: the CPU it last ran on
    std::uint64_t start_ticks = 0;  // field 22: clock ticks after boot it started
};

// nullopt unless the text is a whole stat line with those fields. comm may
// hold spaces and ')' (QEMU's "IO mon_iothread"): fields are counted from
// the last ')'.
std::optional<TaskStat> parseTaskStat(std::string_view text);

// The vCPU a thread runs, from its comm: "CPU 3/KVM" or "CPU 3/TCG" -> 3.
// nullopt for every other thread (I/O, workers, the main loop), and for a
// number of kMaxVcpus or more.
std::optional<unsigned> vcpuOfThreadName(std::string_view comm);

struct QemuThread {
    pid_t tid = 0;
    std::optional<unsigned> vcpu;  // nullopt: one of QEMU's own threads
    TaskStat stat;
};

struct QemuThreads {
    std::vector<QemuThread> threads;  // by tid, ascending
    // Empty when the process was read; else why not (gone, unreadable).
    // Threads that exit while being read are skipped, not an error.
    std::string error;
};

// Every thread of process `pid` under `proc_root` ("/proc", or a fixture
// tree in tests). At most kMaxQemuThreads are read: a process with more is
// not a QEMU we know, and the work per sample stays bounded.
inline constexpr std::size_t kMaxQemuThreads = 4096;
QemuThreads readQemuThreads(const std::filesystem::path& proc_root, pid_t pid);

// The thread id of each vCPU (index = vCPU), 0 where no thread names it.
std::vector<pid_t> vcpuThreadIds(const QemuThreads& threads);

}  // namespace vmpower

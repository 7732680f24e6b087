#include "domain_run.h"

#include <fstream>
#include <sstream>
#include <string>

#include "qemu_pid_file.h"
#include "qemu_threads.h"

namespace vmpower {

DomainRun readDomainRun(int id, std::string_view name, const std::filesystem::path& pid_dir,
                        const std::filesystem::path& proc_root) {
    DomainRun run{id, 0};
    const QemuPidFile pid = readQemuPidFile(pid_dir, name);
    if (pid.status != QemuPidFile::Status::Read) return run;
    std::ifstream in(proc_root / std::to_string(pid.pid) / "stat");
    if (!in) return run;
    std::ostringstream text;
    text << in.rdbuf();
    if (auto stat = parseTaskStat(text.str())) run.qemu_start = stat->start_ticks;
    return run;
}

}  // namespace vmpower

#pragma once
// Test helper: a private copy of a fixture /proc tree (tests/fixtures/proc/)
// and the one way tests change a thread's CPU time in it.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace vmpower::test {

// Copies tests/fixtures/proc/<tree> to `to` (a proc root for the code under test).
inline void copyProcFixture(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

// Rewrites <proc_root>/<pid>/task/<tid>/stat: utime += add_ticks and, when
// given (>= 0), the CPU it last ran on. Fields count from the last ')', as
// the kernel's comm may hold anything.
inline void addTaskTicks(const std::filesystem::path& proc_root, int pid, int tid,
                         unsigned long long add_ticks, int cpu = -1) {
    const auto file =
        proc_root / std::to_string(pid) / "task" / std::to_string(tid) / "stat";
    std::ifstream in(file);
    std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    const auto close = line.rfind(')');
    std::istringstream rest(line.substr(close + 1));
    std::vector<std::string> fields;  // fields[0] is field 3 (state)
    for (std::string f; rest >> f;) fields.push_back(f);
    fields[14 - 3] = std::to_string(std::stoull(fields[14 - 3]) + add_ticks);
    if (cpu >= 0) fields[39 - 3] = std::to_string(cpu);
    std::string out = line.substr(0, close + 1);
    for (const auto& f : fields) out += " " + f;
    std::ofstream(file, std::ios::trunc) << out << '\n';
}

}  // namespace vmpower::test

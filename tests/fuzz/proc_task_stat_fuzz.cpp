// libFuzzer target: /proc/<pid>/task/<tid>/stat text and thread names
// (agent/domain/qemu_threads). Invariants: a parsed line's comm lies between
// its first '(' and last ')'; a vCPU number comes only from "CPU n/KVM|TCG".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "qemu_threads.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto stat = vmpower::parseTaskStat(text)) {
        if (stat->comm.size() >= size) std::abort();
        if (auto vcpu = vmpower::vcpuOfThreadName(stat->comm)) {
            if (!stat->comm.starts_with("CPU ") || *vcpu >= 4096) std::abort();
            if (std::to_string(*vcpu).size() + 8 != stat->comm.size()) std::abort();
        }
    }
    (void)vmpower::vcpuOfThreadName(text);
    return 0;
}

#pragma once
// Which run of a domain this is: libvirt's domain id (a new one at every
// start of the domain) and its QEMU process's start time (clock ticks after
// boot, /proc/<pid>/stat field 22, from libvirt's pid file). Both change
// when the domain is restarted; the start time also tells apart a run
// whose id libvirt gave again (libvirtd's ids start over when its state
// is lost). What a guest asked for is kept across an agent restart for the
// same run only.

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace vmpower {

struct DomainRun {
    int id = -1;
    std::uint64_t qemu_start = 0;  // 0: unknown (no pid file: the test driver)
    bool operator==(const DomainRun&) const = default;
    // Kept for `kept` is this run's: the same id, and the same start time
    // where both are known (a store written before start times were kept
    // has none).
    bool continues(const DomainRun& kept) const {
        return id == kept.id && (kept.qemu_start == 0 || kept.qemu_start == qemu_start);
    }
};

// The run of the running domain `name` with libvirt id `id`: the start time
// from <pid_dir>/<name>.pid and <proc_root>/<pid>/stat; 0 when either
// cannot be read (or is not to be believed).
DomainRun readDomainRun(int id, std::string_view name, const std::filesystem::path& pid_dir,
                        const std::filesystem::path& proc_root);

}  // namespace vmpower

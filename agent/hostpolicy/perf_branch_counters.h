#pragma once
// BRANCH_RATIO's real counters: perf_event_open(2) on each vCPU thread of
// the domain's QEMU (found through libvirt's pid file and the thread names
// "CPU n/KVM" / "CPU n/TCG" in /proc, agent/domain/qemu_threads.h), branch
// instructions as the group leader and branch misses beside it. Where the
// host has no such hardware events (many VMs, some clouds) open() says so
// and the policy is refused.

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "policy_sources.h"
#include "unique_fd.h"

namespace vmpower {

class PerfBranchCounters final : public BranchCounterSource {
  public:
    PerfBranchCounters(std::filesystem::path qemu_pid_dir, std::filesystem::path proc_root)
        : pid_dir_(std::move(qemu_pid_dir)), proc_root_(std::move(proc_root)) {}

    Verdict open(std::string_view uuid, std::string_view name,
                 const std::vector<unsigned>& vcpus) override;
    void close(std::string_view uuid) override;
    std::optional<BranchCounts> read(std::string_view uuid) override;

  private:
    struct Group {
        UniqueFd branches, misses;  // the leader, and the member read with it
    };
    std::filesystem::path pid_dir_, proc_root_;
    std::map<std::string, std::vector<Group>, std::less<>> open_;  // by uuid
};

}  // namespace vmpower

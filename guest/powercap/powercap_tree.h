#pragma once
// vmpower's powercap tree: the VM's energy where unmodified RAPL readers
// (node_exporter, Kepler, Scaphandre) look for it. Under the root:
//
//   .vmpower-powercap             marker: the tree is vmpower's, and the last
//                                 host reading its counters include
//   intel-rapl/enabled            the control type: 1
//   intel-rapl/intel-rapl:0 -> ../intel-rapl:0
//   intel-rapl:0/{name,energy_uj,max_energy_range_uj,enabled}   package-0
//   intel-rapl:0/intel-rapl:0:0/{...}                           core
//   intel-rapl:0:0 -> intel-rapl:0/intel-rapl:0:0
//
// energy_uj is the counter modulo max_energy_range_uj, so it wraps to 0
// exactly as the kernel's does and a reader's `max - before + after` is
// exact. Each value is written to a temporary file and renamed over the
// old one: a reader sees the old value or the new one, never a mix.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "energy_counter.h"
#include "unique_fd.h"

namespace vmpower::guest {

// As on Intel packages (2^32 units of 61 µJ).
inline constexpr std::uint64_t kMaxEnergyRangeUj = 262143328850;
inline constexpr std::string_view kMarkerFile = ".vmpower-powercap";
inline constexpr std::string_view kControlType = "intel-rapl";
inline constexpr std::string_view kPackageZone = "intel-rapl:0";
inline constexpr std::string_view kCoreZone = "intel-rapl:0:0";

// A tree that cannot be used or written; the text names the file and why.
class PowercapError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Throws PowercapError when `root` cannot hold vmpower's tree: it holds a
// RAPL entry without vmpower's marker (a real zone), or is not a directory.
// Changes nothing. A missing root is fine.
void checkRoot(const std::filesystem::path& root);

// A file's whole text, or nullopt when it cannot be read.
std::optional<std::string> readSmallFile(const std::filesystem::path& file);

class PowercapTree {
  public:
    // checkRoot, then continues an earlier run's tree (its counters and the
    // marker's host reading) or lays a new one out (counters 0). Creates
    // the root if missing. Holds a lock on the root while it lives: a
    // second daemon on the same tree is refused (two would add the same
    // host deltas). Throws PowercapError.
    explicit PowercapTree(std::filesystem::path root);

    const std::filesystem::path& root() const { return root_; }
    bool continued() const { return continued_; }
    const GuestCount& restored() const { return restored_; }
    const std::optional<HostCount>& restoredHost() const { return restored_host_; }

    // The counters and the host reading they include; unchanged values are
    // not rewritten. Throws PowercapError.
    void write(const GuestCount& count, const std::optional<HostCount>& host);

  private:
    void restore();
    void layOut();
    std::filesystem::path packageDir() const { return root_ / kPackageZone; }
    std::filesystem::path coreDir() const { return packageDir() / kCoreZone; }

    std::filesystem::path root_;
    UniqueFd lock_;  // the root, flock()ed: one daemon per tree
    bool continued_ = false;
    GuestCount restored_;
    std::optional<HostCount> restored_host_;
    GuestCount written_;
    std::optional<HostCount> written_host_;
};

}  // namespace vmpower::guest

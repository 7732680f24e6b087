#pragma once
// The generator's QEMU role: one listening AF_UNIX socket per channel (QEMU's
// chardev server), laid out as libvirt's test driver sees them in node.xml;
// the server under test (vmpowerd, the echo floor, DPDK's host) connects.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace vmpower::bench {

class QemuSide {
  public:
    // Listens on dir/s0 .. dir/s<n-1>.
    QemuSide(const std::filesystem::path& dir, unsigned channels);

    std::filesystem::path path(unsigned channel) const;
    unsigned size() const { return static_cast<unsigned>(listeners_.size()); }
    // Accepts until every channel has its connection or the deadline passes;
    // returns the number accepted so far.
    unsigned acceptAll(std::chrono::steady_clock::time_point deadline);
    bool allConnected() const { return accepted_ == listeners_.size(); }
    // The accepted connections (non-blocking), by channel.
    const std::vector<UniqueFd>& connections() const { return conns_; }

  private:
    std::filesystem::path dir_;
    std::vector<UniqueFd> listeners_;
    std::vector<UniqueFd> conns_;
    unsigned accepted_ = 0;
};

}  // namespace vmpower::bench

#pragma once
// `vmpower-guest powercap`: asks the host for the VM's energy every
// interval and keeps vmpower's powercap tree (powercap_tree.h) up to date,
// so unmodified RAPL readers in the guest see the VM's energy. Logs one
// line per event on `log`, never one per sample.

#include <iosfwd>
#include <string>

#include "vmpower/guest.h"

namespace vmpower::guest {

struct PowercapOptions {
    vmpower_channel_options channel{};  // port directory, timeout, legacy
    unsigned port = 0;                  // the port asked first
    std::string root;                   // "": a tmpfs over /sys/class/powercap
    double interval_s = 1.0;            // >= kMinIntervalS
    bool once = false;                  // one query, one update, exit
};

inline constexpr double kMinIntervalS = 0.1;
inline constexpr double kMaxBackoffS = 60.0;  // a rate-limited guest waits at most this

// The exit status: 0 after --once's update or on SIGTERM/SIGINT (the tree
// stays, with its last values); 2 when the host refuses energy queries at
// the first one, the place cannot hold the tree, or the tree cannot be
// written.
int runPowercap(const PowercapOptions& opts, std::ostream& log);

}  // namespace vmpower::guest

#pragma once
// Where the tree goes. By default /sys/class/powercap, which a VM's kernel
// leaves empty (no RAPL in a VM) and sysfs does not let us write: a tmpfs
// mounted over it holds the tree, at the path every reader already knows.

#include <filesystem>
#include <string>

namespace vmpower::guest {

inline constexpr const char* kSysfsPowercap = "/sys/class/powercap";

// Checks the default place without changing anything: throws PowercapError
// when /sys/class/powercap is missing or holds zones of its own (a real
// powercap tree). A tmpfs already there (ours, from an earlier run) is
// left to checkRoot.
void checkSysfsPowercap();

// Mounts a tmpfs over /sys/class/powercap unless one is there already.
// Needs CAP_SYS_ADMIN. Throws PowercapError. Returns true if it mounted.
bool mountPowercapTmpfs();

}  // namespace vmpower::guest

#pragma once
// Every channel is an fd: 1000 domains with a few channels each pass the
// usual soft limit of 1024 (systemd's default for services) long before
// the hard limit. The agent takes what it is allowed at start.

#include <sys/resource.h>

namespace vmpower {

// Raises RLIMIT_NOFILE's soft limit to its hard limit. Returns the soft
// limit in force afterwards (unchanged if raising failed, which is logged).
rlim_t raiseFdLimit();

}  // namespace vmpower

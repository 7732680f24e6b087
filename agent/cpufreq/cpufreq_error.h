#pragma once
// Thrown when a cpufreq sysfs tree cannot be used: a file that cannot be
// read or written (what() names it), an unknown driver, a broken topology.

#include <stdexcept>

namespace vmpower {

class CpufreqError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace vmpower

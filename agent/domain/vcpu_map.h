#pragma once
// The live vCPU -> pCPU map of one domain. Each vCPU keeps its full
// affinity set (never "the last CPU of the mask": DPDK's bug 6).

#include <algorithm>
#include <cstddef>
#include <vector>

#include "cpu_set.h"

namespace vmpower {

class VcpuMap {
  public:
    VcpuMap() = default;
    explicit VcpuMap(std::vector<CpuSet> pins) : pins_(std::move(pins)) {}

    std::size_t vcpuCount() const { return pins_.size(); }
    // The pCPUs vCPU `vcpu` may run on; empty set when out of range.
    const CpuSet& pcpus(std::size_t vcpu) const {
        static const CpuSet kNone;
        return vcpu < pins_.size() ? pins_[vcpu] : kNone;
    }
    // Grows the map if a TUNABLE event names a vCPU we did not know.
    void setPcpus(std::size_t vcpu, CpuSet set) {
        if (vcpu >= pins_.size()) pins_.resize(vcpu + 1);
        pins_[vcpu] = std::move(set);
    }
    CpuSet allPcpus() const {
        CpuSet all;
        for (const auto& s : pins_) all |= s;
        return all;
    }
    // Whether every CPU of `set` is one some vCPU may run on: allPcpus()
    // without building it (the request path).
    bool covers(const CpuSet& set) const {
        bool all = true;
        set.forEach([&](unsigned cpu) {
            if (!all) return;
            all = std::any_of(pins_.begin(), pins_.end(),
                              [cpu](const CpuSet& s) { return s.contains(cpu); });
        });
        return all;
    }
    bool operator==(const VcpuMap&) const = default;

  private:
    std::vector<CpuSet> pins_;
};

}  // namespace vmpower

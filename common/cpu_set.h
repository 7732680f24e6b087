#pragma once
// A set of CPU numbers, read from and written as a Linux/libvirt cpulist
// ("0-3,8,10-11"; libvirt's "^N" exclusions are accepted on input).

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_limits.h"

namespace vmpower {

class CpuSet {
  public:
    // Highest CPU number accepted from outside input: bounds the memory a
    // hostile cpulist ("0-4000000000") can make us allocate.
    static constexpr unsigned kMaxCpu = vmpower::kMaxCpu;

    CpuSet() = default;
    CpuSet(std::initializer_list<unsigned> cpus);

    // nullopt on any syntax error or a CPU above kMaxCpu.
    static std::optional<CpuSet> parse(std::string_view cpulist);
    // A hex core mask as DPDK's tools take it: "0x" then hex digits, bit N
    // = CPU N, any length ("0x30", "0xffff0000ffff"). nullopt on anything
    // else, or a bit above kMaxCpu.
    static std::optional<CpuSet> parseMask(std::string_view mask);
    // A mask when it starts with 0x, else a cpulist (an operator's CPU
    // argument: "0x3" and "0-1" are the same set).
    static std::optional<CpuSet> parseMaskOrList(std::string_view text);

    void add(unsigned cpu);
    void remove(unsigned cpu);
    bool contains(unsigned cpu) const;
    bool empty() const;
    std::size_t count() const;
    std::vector<unsigned> cpus() const;  // ascending
    // Calls f(cpu) for each CPU, ascending, without building a vector (the
    // request path).
    template <typename F>
    void forEach(F&& f) const {
        for (std::size_t i = 0; i < words_.size(); ++i) {
            for (std::uint64_t w = words_[i]; w != 0; w &= w - 1) {
                f(static_cast<unsigned>(i * 64 + static_cast<unsigned>(std::countr_zero(w))));
            }
        }
    }
    std::optional<unsigned> first() const;
    bool intersects(const CpuSet& other) const;
    bool isSubsetOf(const CpuSet& other) const;
    CpuSet& operator|=(const CpuSet& other);

    std::string toString() const;  // canonical cpulist, "" when empty

    bool operator==(const CpuSet& other) const { return words_ == other.words_; }

  private:
    void trim();
    std::vector<std::uint64_t> words_;  // no trailing zero words
};

}  // namespace vmpower

// libFuzzer target: the energy ledger (agent/energy/energy_ledger,
// energy_accounting) under a world the input's bytes drive (LedgerWorld:
// counters that move and wrap, VMs coming and going, threads, agent
// restarts). Invariant: at every sample the µJ add up exactly (Σ VMs + host
// == the delta per package and interval, totals == host + VMs, a VM == Σ its
// vCPUs); a violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ledger_world.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::size_t at = 1;
    // Each draw takes up to 8 bytes; the input exhausted, every draw is 0.
    auto draw = [&](std::uint64_t n) -> std::uint64_t {
        std::uint64_t v = 0;
        for (std::uint64_t reach = 1; reach < n && reach != 0 && at < size; reach <<= 8)
            v = (v << 8) | data[at++];
        return v % n;
    };
    const auto idle = (data[0] & 1) != 0 ? vmpower::EnergyIdle::Vcpus : vmpower::EnergyIdle::Host;
    vmpower::LedgerWorld world(draw, idle);
    for (int step = 0; step < 1000 && at < size; ++step) {
        const std::string wrong = world.step();
        if (!wrong.empty()) {
            std::fprintf(stderr, "energy ledger: %s (step %d)\n", wrong.c_str(), step);
            std::abort();
        }
    }
    return 0;
}

#pragma once
// The integer arithmetic that makes the energy ledger add up to the
// microjoule (docs/energy.md "The method"): a package's energy delta in one
// interval is paid out in whole µJ to VMs and the host, never more and never
// less than the counter moved. Pure functions, no state of their own: the
// carries live with the caller (EnergyAccounting).

#include <cstdint>
#include <span>
#include <vector>

namespace vmpower {

// __extension__: -Wpedantic knows no 128-bit integer; GCC and Clang have one.
__extension__ typedef unsigned __int128 Uint128;

// A VM's claim on one package that is not paid yet: the fraction of a µJ its
// exact shares have accumulated, and whole µJ held back because the VMs'
// payouts would have exceeded the package's delta. Paid later, never lost
// while the VM runs.
struct ShareCarry {
    static constexpr unsigned kFractionBits = 32;
    std::uint32_t fraction = 0;  // in 2^-32 µJ
    std::uint64_t owed_uj = 0;
};

// Weights scaled down (by halving) until their sum fits 64 bits; the
// largest stays at least 2^62, so a non-zero set stays non-zero.
std::vector<std::uint64_t> fitWeights(std::span<const Uint128> weights);

// `amount` split by integer weights with the largest-remainder method: the
// parts add up to `amount` exactly; each is floor(amount × w / Σw) or one
// more (the largest remainders first, ties to the lower index). All weights
// zero: an equal split. No weights: nothing.
std::vector<std::uint64_t> splitByWeight(std::uint64_t amount,
                                         std::span<const std::uint64_t> weights);

// One VM on one package in one interval, as payPackage needs it.
struct PackageClaim {
    ShareCarry* carry = nullptr;
    Uint128 ticks = 0;              // its threads' CPU ticks on the package
    std::uint64_t idle_weight = 0;  // its vCPU threads on the package
};

struct PackagePayout {
    std::vector<std::uint64_t> busy;  // per claim: for the ticks it ran
    std::vector<std::uint64_t> idle;  // per claim: of the unattributed part
    std::uint64_t host = 0;           // delta − Σ busy − Σ idle
};

// Pays one package's `delta` (µJ) for one interval. A claim's exact share is
// delta × ticks / total (total ≥ Σ ticks: the package's capacity in ticks,
// or the ticks reported when they exceed it); the fraction of a µJ is kept in
// its carry. The VMs are never paid more than delta: the extra µJ (rounding
// up of carried fractions) are held back in their carries, in claim order
// from the last. With `idle_to_vms`, the part no VM ran for is split among
// the claims by idle_weight; the host keeps it when all weights are zero.
PackagePayout payPackage(std::uint64_t delta, Uint128 total, std::span<const PackageClaim> claims,
                         bool idle_to_vms);

}  // namespace vmpower

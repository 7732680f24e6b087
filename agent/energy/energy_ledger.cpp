#include "energy_ledger.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace vmpower {

namespace {

constexpr Uint128 kU64Max = UINT64_MAX;

// A VM's exact share, delta × ticks / total, added to its carry: returns the
// whole µJ it may now claim (with what was held back before).
std::uint64_t claimShare(ShareCarry& c, std::uint64_t delta, Uint128 ticks, Uint128 total) {
    // Keep the product inside 128 bits: absurd tick counts (≥ 2^64) are
    // scaled down together, which changes the share but never the sums.
    while (total > kU64Max) {
        total >>= 1;
        ticks >>= 1;
    }
    if (total == 0) return std::exchange(c.owed_uj, 0);
    const Uint128 product = Uint128(delta) * std::min(ticks, total);
    const Uint128 whole = product / total;  // ≤ delta
    const Uint128 rest = product % total;   // < 2^64
    // Rounded up to 2^-32 µJ: shares that add up to whole µJ (three thirds)
    // are paid whole; the extra is at most 2^-32 µJ a share, and payPackage
    // never lets it exceed the delta.
    const Uint128 fraction = ((rest << ShareCarry::kFractionBits) + total - 1) / total + c.fraction;
    c.fraction = static_cast<std::uint32_t>(fraction & 0xffffffffu);
    const Uint128 claim = whole + (fraction >> ShareCarry::kFractionBits) + c.owed_uj;
    c.owed_uj = 0;
    if (claim > kU64Max) {  // only with absurd carries: keep the rest owed
        c.owed_uj = static_cast<std::uint64_t>(claim - kU64Max);
        return UINT64_MAX;
    }
    return static_cast<std::uint64_t>(claim);
}

}  // namespace

std::vector<std::uint64_t> fitWeights(std::span<const Uint128> weights) {
    std::vector<Uint128> w(weights.begin(), weights.end());
    auto sum = [&] {
        Uint128 s = 0;
        for (Uint128 x : w) {
            if (x > kU64Max || s + x > kU64Max) return kU64Max + 1;
            s += x;
        }
        return s;
    };
    while (sum() > kU64Max) {
        for (Uint128& x : w) x >>= 1;
    }
    return {w.begin(), w.end()};
}

std::vector<std::uint64_t> splitByWeight(std::uint64_t amount,
                                         std::span<const std::uint64_t> weights) {
    std::vector<std::uint64_t> part(weights.size(), 0);
    if (weights.empty()) return part;
    Uint128 total = 0;
    for (std::uint64_t w : weights) total += w;
    const bool equal = total == 0;
    if (equal) total = weights.size();
    std::vector<Uint128> remainder(weights.size());
    std::uint64_t given = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const Uint128 product = Uint128(amount) * (equal ? 1 : weights[i]);
        part[i] = static_cast<std::uint64_t>(product / total);
        remainder[i] = product % total;
        given += part[i];
    }
    // Fewer than weights.size() µJ are left: one each, largest remainder first.
    std::vector<std::size_t> order(weights.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return remainder[a] > remainder[b]; });
    for (std::size_t k = 0; given < amount; ++k, ++given) ++part[order[k]];
    return part;
}

PackagePayout payPackage(std::uint64_t delta, Uint128 total, std::span<const PackageClaim> claims,
                         bool idle_to_vms) {
    PackagePayout out;
    out.busy.assign(claims.size(), 0);
    out.idle.assign(claims.size(), 0);
    std::vector<std::uint64_t> wanted(claims.size(), 0);
    Uint128 wanted_sum = 0;
    for (std::size_t i = 0; i < claims.size(); ++i) {
        wanted[i] = claimShare(*claims[i].carry, delta, claims[i].ticks, total);
        wanted_sum += wanted[i];
    }
    // Rounding carried fractions up may ask a µJ or two more than the
    // package had: hold those back, from the last claim on, until they fit.
    Uint128 excess = wanted_sum > delta ? wanted_sum - delta : 0;
    for (std::size_t i = claims.size(); i-- > 0 && excess > 0;) {
        const std::uint64_t back = static_cast<std::uint64_t>(std::min<Uint128>(excess, wanted[i]));
        wanted[i] -= back;
        claims[i].carry->owed_uj += back;
        excess -= back;
    }
    std::uint64_t paid = 0;
    for (std::size_t i = 0; i < claims.size(); ++i) {
        out.busy[i] = wanted[i];
        paid += wanted[i];
    }
    std::uint64_t rest = delta - paid;
    if (idle_to_vms) {
        std::vector<std::uint64_t> weights(claims.size());
        bool any = false;
        for (std::size_t i = 0; i < claims.size(); ++i) {
            weights[i] = claims[i].idle_weight;
            any = any || weights[i] > 0;
        }
        if (any) {
            out.idle = splitByWeight(rest, weights);
            rest = 0;
        }
    }
    out.host = rest;
    return out;
}

}  // namespace vmpower

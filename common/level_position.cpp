#include "level_position.h"

#include <algorithm>

namespace vmpower {

bool plausible(const LevelPosition& p) {
    if (p.kind != LevelPosition::Kind::Step) return true;
    return p.of >= 3 && p.of <= kMaxLevelSteps && p.from_top >= 1 && p.from_top + 2 <= p.of;
}

std::optional<LevelPosition> positionOf(std::uint32_t khz, std::span<const std::uint32_t> allowed) {
    if (allowed.empty()) return std::nullopt;
    auto above = std::upper_bound(allowed.begin(), allowed.end(), khz);
    const std::size_t index =
        above == allowed.begin() ? 0 : static_cast<std::size_t>(above - allowed.begin()) - 1;
    const std::size_t n = allowed.size();
    if (index + 1 == n) return LevelPosition{LevelPosition::Kind::Max, 0, 0};
    if (index == 0) return LevelPosition{LevelPosition::Kind::Min, 0, 0};
    return LevelPosition{LevelPosition::Kind::Step, static_cast<unsigned>(n - 1 - index),
                         static_cast<unsigned>(n)};
}

std::uint32_t levelAt(const LevelPosition& p, std::span<const std::uint32_t> allowed) {
    const std::size_t m = allowed.size();
    switch (p.kind) {
        case LevelPosition::Kind::Max:
            return allowed.back();
        case LevelPosition::Kind::Min:
            return allowed.front();
        case LevelPosition::Kind::Step:
            break;
    }
    if (m == 1 || !plausible(p)) return allowed.back();
    // from_top / (of-1) of the way down, in this range's steps, rounded.
    const std::uint64_t num = std::uint64_t{p.from_top} * (m - 1);
    const std::uint64_t den = p.of - 1;
    std::size_t down = static_cast<std::size_t>((2 * num + den) / (2 * den));
    if (m >= 3) down = std::clamp<std::size_t>(down, 1, m - 2);
    return allowed[m - 1 - std::min(down, m - 1)];
}

std::string describe(const LevelPosition& p) {
    if (p.kind != LevelPosition::Kind::Step) return std::string(nameIn(kLevelKindNames, p.kind));
    return std::to_string(p.from_top) + (p.from_top == 1 ? " step" : " steps") + " below max (of " +
           std::to_string(p.of) + ")";
}

}  // namespace vmpower

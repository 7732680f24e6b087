#pragma once
// Where a held frequency sits in the range a VM may use, in words another
// host understands: the top, the bottom, or so many steps below the top of
// a range of so many steps. A live migration carries this, not kHz: the
// destination's CPUs have their own frequencies (docs/operations.md, "During
// a live migration").

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "name_table.h"

namespace vmpower {

struct LevelPosition {
    enum class Kind { Max, Min, Step };
    Kind kind = Kind::Max;
    // Step only: steps below the top (1 .. of-2) in a range of `of` steps.
    unsigned from_top = 0;
    unsigned of = 0;
    bool operator==(const LevelPosition&) const = default;
};

inline constexpr NameTable<LevelPosition::Kind, 3> kLevelKindNames{{
    {"max", LevelPosition::Kind::Max},
    {"min", LevelPosition::Kind::Min},
    {"step", LevelPosition::Kind::Step},
}};

// The longest range a position may describe (outside input is bounded by
// it); real cpufreq tables have tens of steps.
inline constexpr unsigned kMaxLevelSteps = 100000;

// A Step that can describe a level (1 <= from_top <= of-2, of <= kMaxLevelSteps);
// Max and Min always can.
bool plausible(const LevelPosition& p);

// The position of `khz` in `allowed` (ascending, the steps the VM may use);
// a frequency between steps counts as the nearest one below it (the lowest
// when below them all). nullopt when `allowed` is empty.
std::optional<LevelPosition> positionOf(std::uint32_t khz, std::span<const std::uint32_t> allowed);

// The step of `allowed` (ascending, non-empty) a position means here: the
// ends are the ends; a Step keeps its share of the range (rounded to the
// nearest step) and, where this range has a middle, stays in it: a VM that
// stepped below max is never put at max (or min) by a finer or coarser table.
std::uint32_t levelAt(const LevelPosition& p, std::span<const std::uint32_t> allowed);

// "max", "min", "2 steps below max (of 10)".
std::string describe(const LevelPosition& p);

}  // namespace vmpower

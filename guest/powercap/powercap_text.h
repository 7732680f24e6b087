#pragma once
// The text of vmpower's powercap tree, read back when the daemon restarts:
// a counter file ("123\n") and the marker file that says the tree is
// vmpower's and holds the last host reading its counters include. Outside
// input (anything may have written the files): every parser answers a
// value or nullopt, never throws.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "energy_counter.h"

namespace vmpower::guest {

// The marker's first line; a file starting with it marks vmpower's tree.
inline constexpr std::string_view kMarkerHeader = "vmpower-guest powercap 1";

// A whole decimal number, with white space around it as readers allow.
std::optional<std::uint64_t> parseCounter(std::string_view text);

bool isMarker(std::string_view text);
// The host reading a marker holds; nullopt when it holds none (or not all
// three numbers).
std::optional<HostCount> markerHostCount(std::string_view text);
std::string formatMarker(const std::optional<HostCount>& host);

// A RAPL entry's name: "intel-rapl:0", "intel-rapl", "amd-rapl:0", ...
bool isRaplName(std::string_view entry);

}  // namespace vmpower::guest

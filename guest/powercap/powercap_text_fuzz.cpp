// Fuzz target: what a restarted `vmpower-guest powercap` reads back from
// its tree (anything may have written it): a counter file and the marker.
// Invariants: a parsed counter prints back as its digits; a marker's host
// reading survives formatting and parsing again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "powercap_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace vmpower::guest;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto n = parseCounter(in)) {
        if (parseCounter(std::to_string(*n)) != n) std::abort();
    }
    if (auto host = markerHostCount(in)) {
        if (!isMarker(in)) std::abort();
        if (markerHostCount(formatMarker(host)) != host) std::abort();
    }
    if (!isMarker(formatMarker(std::nullopt))) std::abort();
    (void)isRaplName(in);
    return 0;
}

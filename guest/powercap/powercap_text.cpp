#include "powercap_text.h"

#include <charconv>

namespace vmpower::guest {

namespace {

constexpr std::string_view kSpace = " \t\n\r";

std::string_view trimmed(std::string_view s) {
    const auto begin = s.find_first_not_of(kSpace);
    if (begin == std::string_view::npos) return {};
    return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

// The value of "key N" on a line of its own, or nullopt.
std::optional<std::uint64_t> field(std::string_view text, std::string_view key) {
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ')
            return parseCounter(line.substr(key.size() + 1));
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> parseCounter(std::string_view text) {
    text = trimmed(text);
    std::uint64_t v = 0;
    if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return v;
}

bool isMarker(std::string_view text) {
    return text.starts_with(kMarkerHeader) &&
           (text.size() == kMarkerHeader.size() || text[kMarkerHeader.size()] == '\n');
}

std::optional<HostCount> markerHostCount(std::string_view text) {
    if (!isMarker(text)) return std::nullopt;
    auto energy = field(text, "host_energy_uj");
    auto core = field(text, "host_core_uj");
    auto watched = field(text, "host_watched_ms");
    if (!energy || !core || !watched) return std::nullopt;
    return HostCount{*energy, *core, *watched};
}

std::string formatMarker(const std::optional<HostCount>& host) {
    std::string s(kMarkerHeader);
    s += '\n';
    if (host) {
        s += "host_energy_uj " + std::to_string(host->energy_uj) + '\n';
        s += "host_core_uj " + std::to_string(host->core_uj) + '\n';
        s += "host_watched_ms " + std::to_string(host->watched_ms) + '\n';
    }
    return s;
}

bool isRaplName(std::string_view entry) {
    return entry.find("rapl") != std::string_view::npos;
}

}  // namespace vmpower::guest

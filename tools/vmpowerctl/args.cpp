#include "args.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "power_channel.h"

namespace vmpower::ctl {

unsigned parseNumber(std::string_view word, unsigned max, std::string_view what) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (word.empty() || ec != std::errc{} || end != word.data() + word.size() || value > max) {
        throw UsageError("'" + std::string(word) + "' is not " + std::string(what) + " (0-" +
                         std::to_string(max) + ")");
    }
    return value;
}

std::optional<std::vector<unsigned>> parseIndexList(std::string_view word) {
    if (word == "all") return std::nullopt;
    std::set<unsigned> out;
    const std::string_view what = "a channel index";
    while (!word.empty()) {
        auto comma = word.find(',');
        std::string_view part = word.substr(0, comma);
        word = comma == std::string_view::npos ? std::string_view{} : word.substr(comma + 1);
        if (comma != std::string_view::npos && word.empty()) {
            throw UsageError("channel list ends with ','");
        }
        auto dash = part.find('-');
        unsigned lo = parseNumber(part.substr(0, dash), kMaxPowerChannelIndex, what);
        unsigned hi = dash == std::string_view::npos
                          ? lo
                          : parseNumber(part.substr(dash + 1), kMaxPowerChannelIndex, what);
        if (hi < lo) throw UsageError("channel range '" + std::string(part) + "' runs backwards");
        for (unsigned i = lo; i <= hi; ++i) out.insert(i);
    }
    if (out.empty()) throw UsageError("empty channel list (say 0, 0-3,5 or all)");
    return std::vector<unsigned>(out.begin(), out.end());
}

std::vector<std::string> splitWords(std::string_view line) {
    std::vector<std::string> words;
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (char c : line) {
        if (quote != 0) {
            if (c == quote) {
                quote = 0;
            } else {
                cur += c;
            }
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word) words.push_back(std::move(cur));
            cur.clear();
            in_word = false;
        } else {
            cur += c;
            in_word = true;
        }
    }
    if (quote != 0) throw UsageError("unclosed quote");
    if (in_word) words.push_back(std::move(cur));
    return words;
}

std::string canonicalName(std::string_view name) {
    std::string out(name);
    std::replace(out.begin(), out.end(), '_', '-');
    return out;
}

}  // namespace vmpower::ctl

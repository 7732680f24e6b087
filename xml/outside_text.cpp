#include "outside_text.h"

#include <limits>

namespace vmpower {

std::string quoted(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "'";
    bool cut = text.size() > kMaxQuoted;
    for (char ch : text.substr(0, kMaxQuoted)) {
        auto byte = static_cast<unsigned char>(ch);
        if (byte < 0x20 || byte == 0x7f || ch == '\'' || ch == '\\') {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        } else {
            out += ch;
        }
    }
    out += cut ? "'..." : "'";
    return out;
}

std::string_view trimSpace(std::string_view s) {
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

std::optional<std::uint64_t> parseDecimal(std::string_view text) {
    text = trimSpace(text);
    if (text.empty()) return std::nullopt;
    std::uint64_t value = 0;
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    for (char ch : text) {
        if (ch < '0' || ch > '9') return std::nullopt;
        auto digit = static_cast<std::uint64_t>(ch - '0');
        value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
    }
    return value;
}

void Problems::add(std::string line) {
    if (out_.size() < kMaxProblems) {
        out_.push_back(std::move(line));
    } else {
        ++dropped_;
    }
}

void Problems::finish() {
    if (dropped_ > 0) out_.push_back(std::to_string(dropped_) + " more problems not listed");
}

}  // namespace vmpower

#include "cpu_set.h"

#include <algorithm>
#include <bit>
#include <charconv>

namespace vmpower {

CpuSet::CpuSet(std::initializer_list<unsigned> cpus) {
    for (unsigned c : cpus) add(c);
}

namespace {

std::optional<unsigned> parseNumber(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    if (s.empty()) return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || value > CpuSet::kMaxCpu) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<CpuSet> CpuSet::parse(std::string_view text) {
    CpuSet set;
    CpuSet excluded;
    // Trailing newline: sysfs files end with one.
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    if (text.empty()) return set;
    while (true) {
        std::size_t comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        bool exclude = false;
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        if (!item.empty() && item.front() == '^') {
            exclude = true;
            item.remove_prefix(1);
        }
        std::size_t dash = item.find('-');
        auto first = parseNumber(item.substr(0, dash));
        auto last = dash == std::string_view::npos ? first : parseNumber(item.substr(dash + 1));
        if (!first || !last || *last < *first) return std::nullopt;
        if (exclude && dash != std::string_view::npos) return std::nullopt;
        for (unsigned c = *first; c <= *last; ++c) (exclude ? excluded : set).add(c);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    for (unsigned c : excluded.cpus()) set.remove(c);
    return set;
}

std::optional<CpuSet> CpuSet::parseMask(std::string_view mask) {
    if (mask.size() < 3 || mask[0] != '0' || (mask[1] != 'x' && mask[1] != 'X')) {
        return std::nullopt;
    }
    std::string_view digits = mask.substr(2);
    CpuSet set;
    unsigned bit = 0;  // of the rightmost digit not yet read
    for (auto it = digits.rbegin(); it != digits.rend(); ++it, bit += 4) {
        char c = *it;
        unsigned v = c >= '0' && c <= '9'   ? unsigned(c - '0')
                     : c >= 'a' && c <= 'f' ? unsigned(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? unsigned(c - 'A' + 10)
                                            : 16U;
        if (v == 16U) return std::nullopt;
        for (unsigned b = 0; b < 4; ++b) {
            if ((v >> b & 1U) == 0) continue;
            if (bit + b > kMaxCpu) return std::nullopt;
            set.add(bit + b);
        }
    }
    return set;
}

std::optional<CpuSet> CpuSet::parseMaskOrList(std::string_view text) {
    if (text.starts_with("0x") || text.starts_with("0X")) return parseMask(text);
    return parse(text);
}

void CpuSet::add(unsigned cpu) {
    std::size_t word = cpu / 64;
    if (word >= words_.size()) words_.resize(word + 1, 0);
    words_[word] |= std::uint64_t{1} << (cpu % 64);
}

void CpuSet::remove(unsigned cpu) {
    std::size_t word = cpu / 64;
    if (word >= words_.size()) return;
    words_[word] &= ~(std::uint64_t{1} << (cpu % 64));
    trim();
}

bool CpuSet::contains(unsigned cpu) const {
    std::size_t word = cpu / 64;
    return word < words_.size() && (words_[word] >> (cpu % 64) & 1U) != 0;
}

bool CpuSet::empty() const {
    return words_.empty();
}

std::size_t CpuSet::count() const {
    std::size_t n = 0;
    for (auto w : words_) n += static_cast<std::size_t>(std::popcount(w));
    return n;
}

std::vector<unsigned> CpuSet::cpus() const {
    std::vector<unsigned> out;
    for (std::size_t i = 0; i < words_.size(); ++i) {
        for (std::uint64_t w = words_[i]; w != 0; w &= w - 1) {
            out.push_back(static_cast<unsigned>(i * 64 + std::countr_zero(w)));
        }
    }
    return out;
}

std::optional<unsigned> CpuSet::first() const {
    // words_ has no trailing zero words, but may have leading ones.
    for (std::size_t i = 0; i < words_.size(); ++i) {
        if (words_[i] != 0) return static_cast<unsigned>(i * 64 + std::countr_zero(words_[i]));
    }
    return std::nullopt;
}

bool CpuSet::intersects(const CpuSet& other) const {
    std::size_t n = std::min(words_.size(), other.words_.size());
    for (std::size_t i = 0; i < n; ++i) {
        if ((words_[i] & other.words_[i]) != 0) return true;
    }
    return false;
}

bool CpuSet::isSubsetOf(const CpuSet& other) const {
    for (std::size_t i = 0; i < words_.size(); ++i) {
        std::uint64_t theirs = i < other.words_.size() ? other.words_[i] : 0;
        if ((words_[i] & ~theirs) != 0) return false;
    }
    return true;
}

CpuSet& CpuSet::operator|=(const CpuSet& other) {
    if (other.words_.size() > words_.size()) words_.resize(other.words_.size(), 0);
    for (std::size_t i = 0; i < other.words_.size(); ++i) words_[i] |= other.words_[i];
    return *this;
}

std::string CpuSet::toString() const {
    std::string out;
    auto list = cpus();
    for (std::size_t i = 0; i < list.size();) {
        std::size_t j = i;
        while (j + 1 < list.size() && list[j + 1] == list[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(list[i]);
        if (j > i) out += '-' + std::to_string(list[j]);
        i = j + 1;
    }
    return out;
}

void CpuSet::trim() {
    while (!words_.empty() && words_.back() == 0) words_.pop_back();
}

}  // namespace vmpower

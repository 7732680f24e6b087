#pragma once
// A table of the words operators and files use for an enum's values, and
// the three things every user of one needs: word for a value, value for a
// word, and all the words for a usage or error message.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace vmpower {

template <typename Enum, std::size_t N>
using NameTable = std::array<std::pair<std::string_view, Enum>, N>;

// "?" for a value the table lacks.
template <typename Enum, std::size_t N>
constexpr std::string_view nameIn(const NameTable<Enum, N>& table, Enum value) {
    for (const auto& [name, v] : table) {
        if (v == value) return name;
    }
    return "?";
}

template <typename Enum, std::size_t N>
constexpr std::optional<Enum> valueIn(const NameTable<Enum, N>& table, std::string_view word) {
    for (const auto& [name, v] : table) {
        if (name == word) return v;
    }
    return std::nullopt;
}

// The words in table order, e.g. "up|down|..." with separator "|".
template <typename Enum, std::size_t N>
std::string joinedNames(const NameTable<Enum, N>& table, std::string_view separator) {
    std::string out;
    for (const auto& entry : table) {
        if (!out.empty()) out += separator;
        out += entry.first;
    }
    return out;
}

}  // namespace vmpower

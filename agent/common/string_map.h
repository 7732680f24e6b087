#pragma once
// A hash map keyed by string that a string_view can look up without a copy.
// For what a request touches by a VM's uuid: a lookup costs the same with
// 10 VMs or 10 000 (a std::map's grows with their number, one uuid compare
// per level).

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vmpower {

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

template <class T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

}  // namespace vmpower

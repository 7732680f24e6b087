#pragma once
// One field of a guest's record, read with memcpy at its offset: never a
// cast of the buffer (alignment, aliasing), never a load of a C bool.

#include <cstddef>
#include <cstring>
#include <span>

namespace vmpower {

template <typename T>
T readAt(std::span<const std::byte> record, std::size_t offset) {
    T value;
    std::memcpy(&value, record.data() + offset, sizeof value);
    return value;
}

}  // namespace vmpower

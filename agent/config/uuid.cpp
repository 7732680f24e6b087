#include "uuid.h"

namespace vmpower {

std::optional<std::string> canonicalUuid(std::string_view text) {
    std::string hex;
    for (char c : text) {
        if (c == '-') continue;
        bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!digit) return std::nullopt;
        hex += (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    if (hex.size() != 32) return std::nullopt;
    bool dashed = text.size() == 36;
    if (dashed) {
        for (std::size_t pos : {8U, 13U, 18U, 23U}) {
            if (text[pos] != '-') return std::nullopt;
        }
    } else if (text.size() != 32) {
        return std::nullopt;
    }
    return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' +
           hex.substr(16, 4) + '-' + hex.substr(20);
}

}  // namespace vmpower

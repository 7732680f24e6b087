#include "host_policy.h"

#include <cstdio>

namespace vmpower {

std::string macText(std::uint64_t mac) {
    std::string out;
    for (unsigned octet = 0; octet < 6; ++octet) {
        char buf[4];
        std::snprintf(buf, sizeof buf, octet == 0 ? "%02x" : ":%02x",
                      static_cast<unsigned>((mac >> (8 * octet)) & 0xff));
        out += buf;
    }
    return out;
}

std::optional<std::uint64_t> parseMac(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    std::uint64_t mac = 0;
    for (std::size_t octet = 0; octet < 6; ++octet) {
        const std::size_t at = octet * 3;
        if (octet > 0 && text[at - 1] != ':') return std::nullopt;
        unsigned value = 0;
        for (std::size_t i = at; i < at + 2; ++i) {
            const char c = text[i];
            unsigned digit = 0;
            if (c >= '0' && c <= '9') {
                digit = static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                digit = static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                digit = static_cast<unsigned>(c - 'A' + 10);
            } else {
                return std::nullopt;
            }
            value = value * 16 + digit;
        }
        mac |= std::uint64_t{value} << (8 * octet);
    }
    return mac;
}

}  // namespace vmpower

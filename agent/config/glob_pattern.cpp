#include "glob_pattern.h"

#include <fnmatch.h>

namespace vmpower {

Verdict checkGlob(std::string_view pattern) {
    if (pattern.empty()) return Verdict::refused("empty name pattern");
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        char c = pattern[i];
        if (c == '\0') return Verdict::refused("name pattern contains a NUL byte");
        if (c == '\\') {
            if (i + 1 == pattern.size())
                return Verdict::refused("name pattern ends with a lone backslash");
            ++i;
            continue;
        }
        if (c != '[') continue;
        // A bracket expression: "]" right after "[" or "[!" is a member.
        std::size_t j = i + 1;
        if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) ++j;
        if (j < pattern.size() && pattern[j] == ']') ++j;
        while (j < pattern.size() && pattern[j] != ']') ++j;
        if (j == pattern.size()) return Verdict::refused("unclosed '[' in name pattern");
        i = j;
    }
    return Verdict::accepted();
}

bool globMatches(const std::string& pattern, const std::string& name) {
    return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

}  // namespace vmpower

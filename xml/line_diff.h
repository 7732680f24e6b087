#pragma once
// A unified diff of two texts, line by line (longest common subsequence),
// for `vmpower-provision --dry-run`. Same hunk format as `diff -u`.

#include <string>
#include <string_view>

namespace vmpower {

// "" when the texts are equal.
std::string unifiedDiff(std::string_view before, std::string_view after,
                        std::string_view beforeLabel, std::string_view afterLabel,
                        unsigned context = 3);

}  // namespace vmpower

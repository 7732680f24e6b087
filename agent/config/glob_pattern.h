#pragma once
// Domain-name globs of the policy file (fnmatch(3) syntax: * ? [...]).

#include <optional>
#include <string>
#include <string_view>

namespace vmpower {

// Why `pattern` is not a usable glob, or nullopt when it is. fnmatch itself
// takes anything (an unclosed "[" is a literal), so a typo would silently
// match nothing; we reject it instead.
std::optional<std::string> globError(std::string_view pattern);

bool globMatches(const std::string& pattern, const std::string& name);

}  // namespace vmpower

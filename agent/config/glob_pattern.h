#pragma once
// Domain-name globs of the policy file (fnmatch(3) syntax: * ? [...]).

#include <optional>
#include <string>
#include <string_view>

#include "verdict.h"

namespace vmpower {

// Whether `pattern` is a usable glob, refused with why not. fnmatch itself
// takes anything (an unclosed "[" is a literal), so a typo would silently
// match nothing; we reject it instead.
Verdict checkGlob(std::string_view pattern);

bool globMatches(const std::string& pattern, const std::string& name);

}  // namespace vmpower

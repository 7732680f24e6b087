#pragma once
// Parsing the words an operator types: CPU numbers, channel lists, a prompt
// line. Errors are UsageError (exit status 2), with what was expected.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vmpower::ctl {

class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A non-negative decimal number no larger than max; `what` names it in the error.
unsigned parseNumber(std::string_view word, unsigned max, std::string_view what);

// "0", "0,2", "1-3" -> ascending, no duplicates. "all" -> nullopt (every channel).
std::optional<std::vector<unsigned>> parseIndexList(std::string_view word);

// A prompt line split on blanks; '...' and "..." group words. Throws on an
// unclosed quote.
std::vector<std::string> splitWords(std::string_view line);

// DPDK's names use underscores, ours dashes: both are accepted.
std::string canonicalName(std::string_view name);

}  // namespace vmpower::ctl

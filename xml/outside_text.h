#pragma once
// What every reader of outside XML (a domain's XML, vmpower's metadata in
// it) does with text it cannot trust: quote it safely into a log line, read
// a decimal without overflowing, and keep a bounded list of problems.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmpower {

// Longest piece of outside text quoted in a problem line.
inline constexpr std::size_t kMaxQuoted = 160;
// A hostile document could otherwise make us build millions of lines.
inline constexpr std::size_t kMaxProblems = 100;

// Outside text in single quotes, control characters, quotes and
// backslashes escaped (a crafted name cannot forge extra log lines), at most
// kMaxQuoted bytes of it.
std::string quoted(std::string_view text);

std::string_view trimSpace(std::string_view s);

// Decimal digits only (surrounding whitespace allowed, as libvirt's own
// parser allows); saturates instead of overflowing so "huge" stays huge.
std::optional<std::uint64_t> parseDecimal(std::string_view text);

// At most kMaxProblems lines, then one line counting the rest (finish()).
class Problems {
  public:
    explicit Problems(std::vector<std::string>& out) : out_(out) {}
    void add(std::string line);
    void finish();

  private:
    std::vector<std::string>& out_;
    std::size_t dropped_ = 0;
};

}  // namespace vmpower

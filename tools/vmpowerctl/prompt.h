#pragma once
// The interactive `vm_power> ` prompt (vmpowerctl with no command), as DPDK's
// vm_power_manager offers, over any source of lines.

#include <istream>
#include <optional>
#include <string>

#include "commands.h"

namespace vmpower::ctl {

class LineReader {
  public:
    virtual ~LineReader() = default;
    // nullopt at end of input.
    virtual std::optional<std::string> read(const char* prompt) = 0;
};

// Plain lines, no prompt (stdin is not a terminal: `vmpowerctl < script`).
class StreamLineReader final : public LineReader {
  public:
    explicit StreamLineReader(std::istream& in) : in_(in) {}
    std::optional<std::string> read(const char* prompt) override;

  private:
    std::istream& in_;
};

// DPDK vm_power_manager's prompt, so that its documentation reads as written.
inline constexpr const char* kPrompt = "vm_power> ";

// Runs commands until quit/exit or end of input. Returns the status of the
// last command run (0 if none), so a piped script can be checked.
int runPrompt(LineReader& reader, Invocation& inv);

}  // namespace vmpower::ctl

#pragma once
// vmpower-guest's command line: one-shot subcommands, or the interactive
// prompt when none is given. main() only calls runCli.

#include <iosfwd>

namespace vmpower::guest {

// Returns the exit status: 0 ACK, 1 NACK, 2 error (usage errors included).
int runCli(int argc, const char* const* argv, std::istream& in, std::ostream& out,
           std::ostream& err, bool stdin_is_tty);

}  // namespace vmpower::guest

#pragma once
// Runs vmpower-guest commands against the power channels, keeping each port
// open across commands (as a DPDK application does), and maps results to
// the exit statuses 0 ACK, 1 NACK, 2 error.

#include <iosfwd>
#include <map>
#include <memory>
#include <string>

#include "command.h"
#include "vmpower/guest.hpp"

namespace vmpower::guest {

enum ExitStatus { kExitAck = 0, kExitNack = 1, kExitError = 2 };

struct Settings {
    std::string port_dir;  // "" : $VMPOWER_PORT_DIR or /dev/virtio-ports
    int timeout_ms = VMPOWER_DEFAULT_TIMEOUT_MS;
    bool legacy = false;
    unsigned query_all_port = 0;  // the port "all" queries go through
};

// The library's options for these settings (port_dir points into them).
vmpower_channel_options channelOptions(const Settings& settings);

class Session {
  public:
    Session(Settings settings, std::ostream& out, std::ostream& err);
    // Prints the answer on out, an error on err; returns the exit status.
    int run(const Command& cmd);
    // Reads lines until quit or end of input; prompt: print the prompt
    // before each line. Returns the worst status of the commands run.
    int interactive(std::istream& in, bool prompt);

  private:
    Channel& channel(unsigned port);
    int report(vmpower_status st, unsigned port, const Channel& ch);
    int setCpuFreq(unsigned core, vmpower_unit unit);
    int queryFreq(const Command& cmd);
    int queryCaps(const Command& cmd);
    int queryEnergy();

    Settings settings_;
    std::ostream& out_;
    std::ostream& err_;
    std::map<unsigned, std::unique_ptr<Channel>> channels_;
};

}  // namespace vmpower::guest

#pragma once
// Asking the host through whichever power channel port is free. A virtio
// port opens once: another program (a DPDK application) may hold one, so
// the port is opened only for the query and a busy one gives way to the
// next. Also the one wording of a port's error, for the CLI too.

#include <string>

#include "vmpower/guest.h"

namespace vmpower::guest {

struct EnergyAnswer {
    vmpower_status status = VMPOWER_OK;
    vmpower_energy reply{};
    unsigned port = 0;  // the port that answered, or the last one tried
    int err_no = 0;     // errno behind an I/O, busy or missing-port status
};

// Asks once for the VM's energy: port `first`, then the other
// poweragent ports in the port directory in order while the one tried is
// busy or missing. Closes the port again.
EnergyAnswer queryEnergyOnFreePort(const vmpower_channel_options& opts, unsigned first);

// "<port path>: <what the status means>[ (<timeout> ms)][: <errno text>]".
std::string describePortError(vmpower_status st, unsigned port, const vmpower_channel_options& opts,
                              int err_no);

}  // namespace vmpower::guest

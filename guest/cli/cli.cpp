#include "cli.h"

// GCC 12 warns of a null dereference inside CLI11's inlined std::vector
// code (a false positive; the path cannot happen).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wnull-dereference"
#endif
#include <CLI/CLI.hpp>
#include <string>
#include <variant>

#include "powercap_daemon.h"
#include "session.h"

namespace vmpower::guest {

int runCli(int argc, const char* const* argv, std::istream& in, std::ostream& out,
           std::ostream& err, bool stdin_is_tty) {
    CLI::App app{
        "Ask the host for CPU frequency changes over the vmpower (DPDK KVM-VM) "
        "virtio-serial power channels.\nWith no command, reads commands "
        "(see 'help') at the vm_power(guest)> prompt or from standard input.\n"
        "Exit status: 0 ACK, 1 NACK, 2 error.",
        "vmpower-guest"};
    Settings settings;
    app.add_option("--port-dir", settings.port_dir,
                   "directory of the virtio.serial.port.poweragent.N ports (default: "
                   "$VMPOWER_PORT_DIR or /dev/virtio-ports)");
    app.add_option("--timeout-ms", settings.timeout_ms, "how long to wait for a reply")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600 * 1000));
    app.add_flag("--legacy", settings.legacy, "send 16-byte records (DPDK 1.8-17.08 hosts)");
    app.add_option("--query-port", settings.query_all_port, "port that 'all' queries go through")
        ->capture_default_str();
    app.fallthrough();  // global options may follow the subcommand too

    std::string core, what;
    auto* set = app.add_subcommand("set-cpu-freq",
                                   "scale one core: up|down|min|max|"
                                   "enable_turbo|disable_turbo");
    set->add_option("core", core, "guest core (vCPU) number")->required();
    set->add_option("action", what, "up|down|min|max|enable_turbo|disable_turbo")->required();
    auto* qfreq = app.add_subcommand("query-freq", "frequency of a core, or of all cores");
    qfreq->add_option("core", core, "core number or all")->required();
    auto* qcaps = app.add_subcommand("query-caps", "turbo/priority of a core, or of all");
    qcaps->add_option("core", core, "core number or all")->required();
    auto* energy = app.add_subcommand("energy", "this VM's energy, as a vmpower host accounts it");
    PowercapOptions pc;
    auto* powercap = app.add_subcommand(
        "powercap",
        "keep a RAPL-shaped powercap tree of this VM's energy for unmodified readers "
        "(node_exporter, Kepler, Scaphandre)");
    powercap->add_option("--root", pc.root,
                         "where the tree goes, created if missing (default: a tmpfs "
                         "mounted over /sys/class/powercap)");
    powercap->add_option("--interval", pc.interval_s, "seconds between queries")
        ->capture_default_str()
        ->check(CLI::Range(kMinIntervalS, 3600.0));
    powercap->add_flag("--once", pc.once, "one query, one update, then exit");
    app.require_subcommand(0, 1);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e, out, err) == 0 ? kExitAck : kExitError;
    }

    if (powercap->parsed()) {
        pc.channel = channelOptions(settings);
        pc.port = settings.query_all_port;
        return runPowercap(pc, err);
    }
    Session session(settings, out, err);
    std::string line;
    if (set->parsed()) line = "set-cpu-freq " + core + ' ' + what;
    if (qfreq->parsed()) line = "query-freq " + core;
    if (qcaps->parsed()) line = "query-caps " + core;
    if (energy->parsed()) line = "energy";
    if (line.empty()) return session.interactive(in, stdin_is_tty);

    auto parsed = parseLine(line);
    if (auto* e = std::get_if<ParseError>(&parsed)) {
        err << "vmpower-guest: " << e->message << '\n';
        return kExitError;
    }
    return session.run(std::get<Command>(parsed));
}

}  // namespace vmpower::guest

#include "session.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <istream>
#include <ostream>
#include <string>

#include "free_port.h"

namespace vmpower::guest {

constexpr std::string_view kPrompt = "vm_power(guest)> ";

vmpower_channel_options channelOptions(const Settings& settings) {
    vmpower_channel_options opts;
    vmpower_channel_options_init(&opts);
    opts.port_dir = settings.port_dir.empty() ? nullptr : settings.port_dir.c_str();
    opts.timeout_ms = settings.timeout_ms;
    opts.legacy = settings.legacy;
    return opts;
}

Session::Session(Settings settings, std::ostream& out, std::ostream& err)
    : settings_(std::move(settings)), out_(out), err_(err) {}

Channel& Session::channel(unsigned port) {
    auto& slot = channels_[port];
    // A channel whose open failed is retried on the next command: the
    // port may have appeared meanwhile.
    if (!slot || !slot->isOpen()) {
        slot = std::make_unique<Channel>(port, channelOptions(settings_));
    }
    return *slot;
}

int Session::report(vmpower_status st, unsigned port, const Channel& ch) {
    if (st == VMPOWER_OK) return kExitAck;
    if (st == VMPOWER_ERR_NACK) {
        out_ << "NACK: " << vmpower_strerror(st) << '\n';
        return kExitNack;
    }
    err_ << "vmpower-guest: "
         << describePortError(st, port, channelOptions(settings_), ch.lastErrno()) << '\n';
    return kExitError;
}

int Session::setCpuFreq(unsigned core, vmpower_unit unit) {
    // Like DPDK: lcore N talks over port N and names itself as resource N.
    Channel& ch = channel(core);
    vmpower_status st = ch.cpuPower(core, unit);
    if (st == VMPOWER_OK) out_ << "ACK: core " << core << ' ' << unitName(unit) << '\n';
    return report(st, core, ch);
}

int Session::queryFreq(const Command& cmd) {
    unsigned port = cmd.core.value_or(settings_.query_all_port);
    Channel& ch = channel(port);
    vmpower_freq_list reply{};
    vmpower_status st = ch.queryFreq(port, !cmd.core, reply);
    if (st == VMPOWER_OK) {
        if (cmd.core) {
            out_ << "core " << *cmd.core << ": " << reply.freq_list[*cmd.core] << " kHz\n";
        } else {
            for (unsigned i = 0; i < reply.num_vcpu; ++i)
                out_ << "core " << i << ": " << reply.freq_list[i] << " kHz\n";
        }
    }
    return report(st, port, ch);
}

int Session::queryCaps(const Command& cmd) {
    unsigned port = cmd.core.value_or(settings_.query_all_port);
    Channel& ch = channel(port);
    vmpower_caps_list reply{};
    vmpower_status st = ch.queryCaps(port, !cmd.core, reply);
    auto line = [&](unsigned i) {
        out_ << "core " << i << ": turbo " << (reply.turbo[i] ? "yes" : "no") << ", priority "
             << (reply.priority[i] ? "high" : "normal") << '\n';
    };
    if (st == VMPOWER_OK) {
        if (cmd.core) {
            line(*cmd.core);
        } else {
            for (unsigned i = 0; i < reply.num_vcpu; ++i) line(i);
        }
    }
    return report(st, port, ch);
}

namespace {

// Microjoules as joules with all six decimals: "12.000345 J".
std::string joules(std::uint64_t uj) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%llu.%06llu J", static_cast<unsigned long long>(uj / 1000000),
                  static_cast<unsigned long long>(uj % 1000000));
    return buf;
}

}  // namespace

int Session::queryEnergy() {
    const unsigned port = settings_.query_all_port;
    Channel& ch = channel(port);
    vmpower_energy reply{};
    vmpower_status st = ch.queryEnergy(reply);
    if (st == VMPOWER_OK) {
        out_ << "energy: " << joules(reply.energy_uj) << " in "
             << static_cast<double>(reply.watched_ms) / 1000.0 << " s; power "
             << reply.power_mw / 1000.0 << " W over the last " << reply.interval_ms << " ms\n";
        const unsigned shown = std::min<unsigned>(reply.num_vcpu, VMPOWER_ENERGY_MAX_VCPUS);
        for (unsigned i = 0; i < shown; ++i)
            out_ << "vcpu " << i << ": " << joules(reply.vcpu_energy_uj[i]) << '\n';
        if (reply.flags & VMPOWER_ENERGY_GAP)
            out_ << "note: counted across a restart of the host's agent; what the VM used "
                    "meanwhile is not included\n";
    }
    return report(st, port, ch);
}

int Session::run(const Command& cmd) {
    switch (cmd.action) {
        case Action::SetCpuFreq:
            return setCpuFreq(*cmd.core, cmd.unit);
        case Action::QueryFreq:
            return queryFreq(cmd);
        case Action::QueryCaps:
            return queryCaps(cmd);
        case Action::QueryEnergy:
            return queryEnergy();
        case Action::Help:
            out_ << helpText();
            return kExitAck;
        case Action::Quit:
        case Action::Nothing:
            return kExitAck;
    }
    return kExitError;
}

int Session::interactive(std::istream& in, bool prompt) {
    int worst = kExitAck;
    std::string line;
    for (;;) {
        if (prompt) out_ << kPrompt << std::flush;
        if (!std::getline(in, line)) {
            if (prompt) out_ << '\n';  // end the prompt's line on ^D
            break;
        }
        auto parsed = parseLine(line);
        if (auto* e = std::get_if<ParseError>(&parsed)) {
            err_ << "vmpower-guest: " << e->message << '\n';
            worst = kExitError;
            continue;
        }
        const auto& cmd = std::get<Command>(parsed);
        if (cmd.action == Action::Quit) break;
        int status = run(cmd);
        if (status > worst) worst = status;
    }
    return worst;
}

}  // namespace vmpower::guest

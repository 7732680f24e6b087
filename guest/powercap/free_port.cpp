#include "free_port.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "vmpower/guest.hpp"

namespace vmpower::guest {

namespace {

// `first`, then every other port the directory holds, in order.
std::vector<unsigned> portsToTry(const vmpower_channel_options& opts, unsigned first) {
    std::vector<unsigned> ports{first};
    char path[4096];
    if (!vmpower_port_path(0, opts.port_dir, path, sizeof path)) return ports;
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    constexpr std::string_view prefix = VMPOWER_PORT_PREFIX;
    std::error_code ec;
    std::vector<unsigned> others;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (!std::string_view(name).starts_with(prefix)) continue;
        unsigned n = 0;
        const char* end = name.data() + name.size();
        auto [at, err] = std::from_chars(name.data() + prefix.size(), end, n);
        if (err == std::errc{} && at == end && n != first) others.push_back(n);
    }
    std::sort(others.begin(), others.end());
    ports.insert(ports.end(), others.begin(), others.end());
    return ports;
}

}  // namespace

EnergyAnswer queryEnergyOnFreePort(const vmpower_channel_options& opts, unsigned first) {
    EnergyAnswer a;
    for (unsigned port : portsToTry(opts, first)) {
        Channel ch(port, opts);
        a.port = port;
        if (!ch.isOpen()) {
            a.status = ch.openStatus();
            a.err_no = ch.lastErrno();
            if (a.status == VMPOWER_ERR_BUSY || a.status == VMPOWER_ERR_NO_PORT) continue;
            return a;
        }
        a.status = ch.queryEnergy(a.reply);
        a.err_no = ch.lastErrno();
        return a;
    }
    return a;
}

std::string describePortError(vmpower_status st, unsigned port, const vmpower_channel_options& opts,
                              int err_no) {
    char path[4096];
    if (!vmpower_port_path(port, opts.port_dir, path, sizeof path))
        std::strcpy(path, "(port path too long)");
    std::string s = std::string(path) + ": " + vmpower_strerror(st);
    if (st == VMPOWER_ERR_TIMEOUT) s += " (" + std::to_string(opts.timeout_ms) + " ms)";
    if (err_no != 0 && (st == VMPOWER_ERR_IO || st == VMPOWER_ERR_BUSY))
        s += std::string(": ") + std::strerror(err_no);
    return s;
}

}  // namespace vmpower::guest

#pragma once
// vmpower-provision's command line (CLI11): parses, builds the pieces and
// runs one command. main.cpp only hands it the real libvirt.

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "hypervisor.h"

namespace vmpower::provision {

struct CliEnvironment {
    std::function<std::unique_ptr<Hypervisor>(const std::string& uri)> connect;
    std::filesystem::path qemu_conf = "/etc/libvirt/qemu.conf";
    std::filesystem::path schema = "/usr/share/libvirt/schemas/domain.rng";
    std::ostream* out = nullptr;
    std::ostream* err = nullptr;
};

// Returns the process exit status (see exit_status.h).
int runCli(int argc, const char* const* argv, const CliEnvironment& env);

}  // namespace vmpower::provision

// vmpower-provision: wiring only; the logic is in provision_lib (cli.cpp).
#include <iostream>

#include "cli.h"
#include "libvirt_domain_config.h"

int main(int argc, char** argv) {
    vmpower::provision::CliEnvironment env;
    env.connect = [](const std::string& uri) -> std::unique_ptr<vmpower::provision::Hypervisor> {
        return std::make_unique<vmpower::provision::LibvirtDomainConfig>(uri);
    };
    env.out = &std::cout;
    env.err = &std::cerr;
    return vmpower::provision::runCli(argc, argv, env);
}

#pragma once
// The virtio-serial side of a domain: its controllers, the ports in use, and
// allocation of free ports the way libvirt would accept them.

#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace vmpower::ports {

// QEMU's default max_ports; port 0 is kept for virtio consoles, so libvirt
// gives channels ports 1..30.
inline constexpr unsigned kDefaultPorts = 31;

struct Controller {
    unsigned index = 0;
    unsigned ports = kDefaultPorts;  // ports='N': ports 0..N-1
    bool implicit = false;           // libvirt adds it at define time
};

struct PortUse {
    unsigned controller = 0;
    unsigned port = 0;
    std::string owner;  // for messages: "channel 'org.qemu.guest_agent.0'"
};

struct Address {
    unsigned controller = 0;
    unsigned port = 0;
};

struct Inventory {
    std::vector<Controller> controllers;  // by index, implicit ones included
    std::vector<PortUse> used;
    unsigned unaddressed_channels = 0;  // libvirt picks their ports at define
    std::vector<std::string> problems;  // ports out of range, clashes

    bool hasController(unsigned index) const;
    bool portInUse(unsigned controller, unsigned port) const;
};

// Throws std::invalid_argument with a message on unparsable numbers.
Inventory take(pugi::xml_node devices);

struct Allocation {
    std::vector<Address> addresses;         // one per requested channel
    std::vector<unsigned> new_controllers;  // indexes to add, default ports
};

// Free ports first on existing controllers (after the ones libvirt will give
// unaddressed channels), then on new controllers at the lowest free indexes.
Allocation allocate(const Inventory& inventory, unsigned count);

// A decimal attribute; nullopt when absent, throws when malformed.
std::optional<unsigned> decimalAttribute(pugi::xml_node node, const char* name);

std::string describe(pugi::xml_node device);

}  // namespace vmpower::ports

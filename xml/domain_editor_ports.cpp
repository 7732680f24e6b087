#include "domain_editor_ports.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <stdexcept>

namespace vmpower::ports {

bool Inventory::hasController(unsigned index) const {
    return std::any_of(controllers.begin(), controllers.end(),
                       [&](const Controller& c) { return c.index == index; });
}

bool Inventory::portInUse(unsigned controller, unsigned port) const {
    return std::any_of(used.begin(), used.end(), [&](const PortUse& u) {
        return u.controller == controller && u.port == port;
    });
}

std::optional<unsigned> decimalAttribute(pugi::xml_node node, const char* name) {
    pugi::xml_attribute a = node.attribute(name);
    if (!a) return std::nullopt;
    std::string_view v = a.value();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || value > 1'000'000) {
        throw std::invalid_argument("<" + std::string(node.name()) + "> has " + name + "='" +
                                    std::string(v) + "', not a number");
    }
    return value;
}

std::string describe(pugi::xml_node device) {
    std::string what = device.name();
    const char* target = device.child("target").attribute("name").value();
    if (*target != '\0') what += " '" + std::string(target) + "'";
    return what;
}

namespace {

bool isVirtioTarget(pugi::xml_node device) {
    return std::strcmp(device.child("target").attribute("type").value(), "virtio") == 0;
}

void addController(Inventory& inv, Controller c) {
    auto it = std::find_if(inv.controllers.begin(), inv.controllers.end(),
                           [&](const Controller& x) { return x.index == c.index; });
    if (it == inv.controllers.end()) {
        inv.controllers.push_back(c);
    } else if (!c.implicit) {
        if (!it->implicit) {
            inv.problems.push_back("two virtio-serial controllers have index " +
                                   std::to_string(c.index));
        }
        *it = c;
    }
}

}  // namespace

Inventory take(pugi::xml_node devices) {
    Inventory inv;
    bool needsControllerZero = false;
    for (pugi::xml_node d = devices.first_child(); d; d = d.next_sibling()) {
        if (d.type() != pugi::node_element) continue;
        std::string_view name = d.name();
        if (name == "controller" &&
            std::string_view(d.attribute("type").value()) == "virtio-serial") {
            Controller c;
            c.index = decimalAttribute(d, "index").value_or(0);
            c.ports = decimalAttribute(d, "ports").value_or(kDefaultPorts);
            addController(inv, c);
            continue;
        }
        pugi::xml_node addr = d.child("address");
        if (std::string_view(addr.attribute("type").value()) == "virtio-serial") {
            PortUse use;
            use.controller = decimalAttribute(addr, "controller").value_or(0);
            // libvirt picks the port when only the controller is given.
            std::optional<unsigned> port = decimalAttribute(addr, "port");
            if (port) {
                use.port = *port;
                use.owner = describe(d);
                inv.used.push_back(use);
            } else {
                ++inv.unaddressed_channels;
            }
            addController(inv, Controller{use.controller, kDefaultPorts, true});
        } else if ((name == "channel" || name == "console") && isVirtioTarget(d)) {
            if (name == "channel") ++inv.unaddressed_channels;
            needsControllerZero = true;
        }
    }
    if (needsControllerZero) addController(inv, Controller{0, kDefaultPorts, true});
    std::sort(inv.controllers.begin(), inv.controllers.end(),
              [](const Controller& a, const Controller& b) { return a.index < b.index; });

    std::map<std::pair<unsigned, unsigned>, const PortUse*> seen;
    for (const PortUse& u : inv.used) {
        auto [it, fresh] = seen.emplace(std::make_pair(u.controller, u.port), &u);
        if (!fresh) {
            inv.problems.push_back(
                it->second->owner + " and " + u.owner + " both use virtio-serial controller " +
                std::to_string(u.controller) + " port " + std::to_string(u.port));
        }
        for (const Controller& c : inv.controllers) {
            if (c.index == u.controller && u.port >= c.ports) {
                inv.problems.push_back(u.owner + " uses port " + std::to_string(u.port) +
                                       " but virtio-serial controller " + std::to_string(c.index) +
                                       " has ports 0.." +
                                       std::to_string(c.ports == 0 ? 0 : c.ports - 1));
            }
        }
    }
    return inv;
}

Allocation allocate(const Inventory& inventory, unsigned count) {
    Allocation result;
    unsigned skip = inventory.unaddressed_channels;
    for (const Controller& c : inventory.controllers) {
        for (unsigned port = 1; port < c.ports && result.addresses.size() < count; ++port) {
            if (inventory.portInUse(c.index, port)) continue;
            if (skip > 0) {
                --skip;
                continue;
            }
            result.addresses.push_back({c.index, port});
        }
    }
    unsigned index = 0;
    while (result.addresses.size() < count) {
        while (inventory.hasController(index) ||
               std::find(result.new_controllers.begin(), result.new_controllers.end(), index) !=
                   result.new_controllers.end()) {
            ++index;
        }
        result.new_controllers.push_back(index);
        for (unsigned port = 1; port < kDefaultPorts && result.addresses.size() < count; ++port) {
            result.addresses.push_back({index, port});
        }
    }
    return result;
}

}  // namespace vmpower::ports

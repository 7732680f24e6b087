#include "domain_editor_record.h"

#include <stdexcept>

#include "domain_editor.h"  // kProvisionNamespace
#include "domain_editor_ports.h"

namespace vmpower::record {

namespace {

bool isEntry(pugi::xml_node n, std::string_view name) {
    return n.type() == pugi::node_element && localName(n) == name;
}

std::string prefixOf(pugi::xml_node record) {
    std::string_view name = record.name();
    std::size_t colon = name.find(':');
    return colon == std::string_view::npos ? std::string() : std::string(name.substr(0, colon + 1));
}

// Removes the entries `drop` says so of; true when any went.
template <typename Drop>
bool removeEntries(pugi::xml_node record, Drop drop) {
    bool removed = false;
    for (pugi::xml_node m = record.first_child(); m;) {
        pugi::xml_node next = m.next_sibling();
        if (m.type() == pugi::node_element && drop(m)) {
            layout::removeWithLeadingWhitespace(m);
            removed = true;
        }
        m = next;
    }
    return removed;
}

}  // namespace

std::string_view localName(pugi::xml_node n) {
    std::string_view name = n.name();
    std::size_t colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node find(pugi::xml_node domain) {
    for (pugi::xml_node m : domain.children("metadata")) {
        for (pugi::xml_node e = m.first_child(); e; e = e.next_sibling()) {
            if (!isEntry(e, "provision")) continue;
            for (pugi::xml_attribute a : e.attributes()) {
                std::string_view an = a.name();
                if ((an == "xmlns" || an.substr(0, 6) == "xmlns:") &&
                    a.value() == kProvisionNamespace) {
                    return e;
                }
            }
        }
    }
    return {};
}

pugi::xml_node findOrAdd(pugi::xml_node domain) {
    pugi::xml_node r = find(domain);
    if (r) return r;
    pugi::xml_node metadata = domain.child("metadata");
    if (!metadata) {
        pugi::xml_node after =
            layout::lastChildNamed(domain, {"description", "title", "genid", "uuid", "name"});
        metadata = layout::insertChild(domain, after, "metadata", layout::forChildrenOf(domain));
    }
    r = layout::insertChild(metadata, {}, "vmpower:provision", layout::forChildrenOf(metadata));
    r.append_attribute("xmlns:vmpower").set_value(std::string(kProvisionNamespace).c_str());
    return r;
}

std::set<unsigned> controllers(pugi::xml_node record) {
    std::set<unsigned> result;
    for (pugi::xml_node c = record.first_child(); c; c = c.next_sibling()) {
        if (!isEntry(c, "controller")) continue;
        try {
            if (auto index = ports::decimalAttribute(c, "index")) result.insert(*index);
        } catch (const std::invalid_argument&) {
            // A damaged record names nothing vmpower may remove.
        }
    }
    return result;
}

std::set<std::string> channels(pugi::xml_node record) {
    std::set<std::string> result;
    for (pugi::xml_node c = record.first_child(); c; c = c.next_sibling()) {
        if (isEntry(c, "channel")) result.insert(c.attribute("name").value());
    }
    return result;
}

void noteController(pugi::xml_node record, unsigned index, const layout::Indent& indent) {
    pugi::xml_node mark =
        layout::insertChild(record, {}, (prefixOf(record) + "controller").c_str(), indent);
    mark.append_attribute("index").set_value(index);
}

void noteChannel(pugi::xml_node record, const char* name, const layout::Indent& indent) {
    pugi::xml_node mark =
        layout::insertChild(record, {}, (prefixOf(record) + "channel").c_str(), indent);
    mark.append_attribute("name").set_value(name);
}

bool forgetChannelsExcept(pugi::xml_node record, const std::set<std::string>& remaining) {
    return removeEntries(record, [&](pugi::xml_node m) {
        return localName(m) == "channel" && !remaining.count(m.attribute("name").value());
    });
}

void forgetController(pugi::xml_node record, unsigned index) {
    removeEntries(record, [&](pugi::xml_node m) {
        return localName(m) == "controller" &&
               m.attribute("index").value() == std::to_string(index);
    });
}

bool empty(pugi::xml_node record) {
    for (pugi::xml_node m = record.first_child(); m; m = m.next_sibling()) {
        if (m.type() == pugi::node_element) return false;
    }
    return true;
}

}  // namespace vmpower::record

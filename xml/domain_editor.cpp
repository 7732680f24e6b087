#include "domain_editor.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <pugixml.hpp>
#include <set>

#include "domain_editor_layout.h"
#include "domain_editor_ports.h"
#include "power_channel.h"

namespace vmpower {

namespace {

using Kind = DomainEditError::Kind;

bool nameIs(pugi::xml_node n, std::string_view name) {
    return n.type() == pugi::node_element && name == n.name();
}

std::string_view localName(pugi::xml_node n) {
    std::string_view name = n.name();
    std::size_t colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// The number of a power channel's name, nullopt for other names; throws
// Clash for a power channel name without a valid number.
std::optional<unsigned> powerChannelNumber(std::string_view target) {
    if (!hasPowerChannelPrefix(target)) return std::nullopt;
    auto n = parsePowerChannelIndex(target.substr(kPowerChannelPrefix.size()));
    if (!n) {
        throw DomainEditError(Kind::Clash, "channel '" + std::string(target) +
                                               "' has the power channel prefix but no vCPU number");
    }
    return n;
}

// Why a power channel found in the definition cannot be served, or "".
std::string flawText(PowerChannelFlaw flaw, pugi::xml_node channel) {
    pugi::xml_node target = channel.child("target");
    pugi::xml_node source = channel.child("source");
    switch (flaw) {
        case PowerChannelFlaw::None:
        case PowerChannelFlaw::NoPath:  // libvirt chooses one when the domain starts
            return "";
        case PowerChannelFlaw::TargetNotVirtio:
            return std::string("has target type='") + target.attribute("type").value() +
                   "', power channels need type='virtio'";
        case PowerChannelFlaw::NotUnix:
            return std::string("has type='") + channel.attribute("type").value() +
                   "', power channels need type='unix'";
        case PowerChannelFlaw::PathNotAbsolute:
            return std::string("has socket path '") + source.attribute("path").value() +
                   "', not an absolute path";
        case PowerChannelFlaw::PathTooLong:
            return "has a socket path over " + std::to_string(kMaxSocketPathBytes) +
                   " bytes (AF_UNIX)";
        case PowerChannelFlaw::ConnectMode:
        case PowerChannelFlaw::UnknownMode:
            return "must have <source mode='bind'>: QEMU listens, vmpowerd connects";
    }
    return "";
}

// The provision record in <metadata>, found by namespace, whatever prefix.
pugi::xml_node findRecord(pugi::xml_node domain) {
    for (pugi::xml_node m : domain.children("metadata")) {
        for (pugi::xml_node e = m.first_child(); e; e = e.next_sibling()) {
            if (e.type() != pugi::node_element || localName(e) != "provision") continue;
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

std::set<unsigned> recordedControllers(pugi::xml_node record) {
    std::set<unsigned> result;
    for (pugi::xml_node c = record.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element || localName(c) != "controller") continue;
        try {
            if (auto index = ports::decimalAttribute(c, "index")) result.insert(*index);
        } catch (const std::invalid_argument&) {
            // A damaged record names nothing vmpower may remove.
        }
    }
    return result;
}

std::set<std::string> recordedChannels(pugi::xml_node record) {
    std::set<std::string> result;
    for (pugi::xml_node c = record.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && localName(c) == "channel") {
            result.insert(c.attribute("name").value());
        }
    }
    return result;
}

std::string prefixOf(pugi::xml_node record) {
    std::string_view name = record.name();
    std::size_t colon = name.find(':');
    return colon == std::string_view::npos ? std::string() : std::string(name.substr(0, colon + 1));
}

// An element left with nothing but whitespace means nothing: take it out so
// that removing what we added to a bare domain gives the bare domain back.
void removeIfEmpty(pugi::xml_node element) {
    if (!element) return;
    for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_pcdata ||
            std::string_view(c.value()).find_first_not_of(" \t\r\n") != std::string_view::npos) {
            return;
        }
    }
    layout::removeWithLeadingWhitespace(element);
}

}  // namespace

struct DomainEditor::Document {
    pugi::xml_document xml;
    // pugixml keeps no text outside the root element: the whitespace before
    // each top-level node and after the last one, to write them back.
    std::vector<std::string> gaps;
    std::string tail;
    std::string original;  // the input, for each element's quote style

    pugi::xml_node domain() const { return xml.document_element(); }

    pugi::xml_node devices() {
        pugi::xml_node d = domain().child("devices");
        if (!d) d = layout::insertChild(domain(), {}, "devices", layout::forChildrenOf(domain()));
        return d;
    }

    ports::Inventory inventory() const {
        try {
            return ports::take(domain().child("devices"));
        } catch (const std::invalid_argument& e) {
            throw DomainEditError(Kind::Malformed, e.what());
        }
    }

    std::vector<pugi::xml_node> powerChannels() const {
        std::vector<pugi::xml_node> result;
        for (pugi::xml_node c : domain().child("devices").children("channel")) {
            // By prefix alone: removal must also take out damaged names.
            std::string_view name = c.child("target").attribute("name").value();
            if (hasPowerChannelPrefix(name)) result.push_back(c);
        }
        return result;
    }

    pugi::xml_node lastChild(pugi::xml_node parent, std::initializer_list<std::string_view> names) {
        for (std::string_view name : names) {
            pugi::xml_node found;
            for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
                if (nameIs(c, name)) found = c;
            }
            if (found) return found;
        }
        return {};
    }

    pugi::xml_node record(bool create) {
        pugi::xml_node r = findRecord(domain());
        if (r || !create) return r;
        pugi::xml_node metadata = domain().child("metadata");
        if (!metadata) {
            pugi::xml_node after =
                lastChild(domain(), {"description", "title", "genid", "uuid", "name"});
            metadata =
                layout::insertChild(domain(), after, "metadata", layout::forChildrenOf(domain()));
        }
        r = layout::insertChild(metadata, {}, "vmpower:provision", layout::forChildrenOf(metadata));
        r.append_attribute("xmlns:vmpower").set_value(std::string(kProvisionNamespace).c_str());
        return r;
    }
};

DomainEditor::DomainEditor(std::string_view text) : doc_(std::make_unique<Document>()) {
    // Keep everything (whitespace, comments, doctype) so the output differs
    // from the input only where we edit; no attribute whitespace folding.
    const unsigned options =
        (pugi::parse_full | pugi::parse_ws_pcdata) & ~pugi::parse_wconv_attribute;
    pugi::xml_parse_result parsed = doc_->xml.load_buffer(text.data(), text.size(), options);
    if (!parsed) {
        throw DomainEditError(Kind::Malformed, std::string("not well-formed XML at byte ") +
                                                   std::to_string(parsed.offset) + ": " +
                                                   parsed.description());
    }
    unsigned roots = 0;
    for (pugi::xml_node n = doc_->xml.first_child(); n; n = n.next_sibling()) {
        if (n.type() == pugi::node_element) ++roots;
        if (n.type() == pugi::node_pcdata &&
            std::string_view(n.value()).find_first_not_of(" \t\r\n") != std::string_view::npos) {
            ++roots;
        }
    }
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    const std::size_t last = text.find_last_not_of(" \t\r\n");
    if (roots != 1 || std::strcmp(doc_->domain().name(), "domain") != 0 ||
        first == std::string_view::npos || text[first] != '<' || text[last] != '>') {
        throw DomainEditError(Kind::Malformed, "the document is not a single <domain> element");
    }
    for (pugi::xml_node n = doc_->xml.first_child(); n; n = n.next_sibling()) {
        // offset_debug points into the node's tag; its '<' is the last one before.
        const std::ptrdiff_t at = n.offset_debug();
        std::size_t start = at < 0 ? 0 : text.rfind('<', static_cast<std::size_t>(at));
        std::size_t ws = start == std::string_view::npos ? 0 : start;
        while (ws > 0 && std::strchr(" \t\r\n", text[ws - 1]) != nullptr) --ws;
        doc_->gaps.emplace_back(start == std::string_view::npos ? std::string_view()
                                                                : text.substr(ws, start - ws));
    }
    doc_->tail = std::string(text.substr(last + 1));
    doc_->original = std::string(text);
    vcpuCount();        // validates <vcpu>
    doc_->inventory();  // validates the virtio-serial numbers
}

DomainEditor::~DomainEditor() = default;
DomainEditor::DomainEditor(DomainEditor&&) noexcept = default;
DomainEditor& DomainEditor::operator=(DomainEditor&&) noexcept = default;

std::string DomainEditor::name() const {
    return doc_->domain().child_value("name");
}

unsigned DomainEditor::vcpuCount() const {
    pugi::xml_node vcpu = doc_->domain().child("vcpu");
    if (!vcpu) return 1;
    std::string_view v = vcpu.child_value();
    while (!v.empty() && std::strchr(" \t\r\n", v.front())) v.remove_prefix(1);
    while (!v.empty() && std::strchr(" \t\r\n", v.back())) v.remove_suffix(1);
    unsigned n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n == 0) {
        throw DomainEditError(Kind::Malformed, "<vcpu> is '" + std::string(v) + "', not a count");
    }
    return n;
}

ChannelCheck DomainEditor::check(unsigned wantedCount) const {
    ChannelCheck result;
    ports::Inventory inv = doc_->inventory();
    result.clashes = inv.problems;

    std::map<std::string, unsigned> names;
    std::set<unsigned> found;
    for (pugi::xml_node c : doc_->domain().child("devices").children("channel")) {
        pugi::xml_node target = c.child("target");
        std::string name = target.attribute("name").value();
        if (!name.empty() && ++names[name] == 2) {
            result.clashes.push_back("two channels are named '" + name + "'");
        }
        std::optional<unsigned> n;
        try {
            n = powerChannelNumber(name);
        } catch (const DomainEditError& e) {
            result.clashes.push_back(e.what());
            continue;
        }
        if (!n) continue;
        pugi::xml_node source = c.child("source");
        const PowerChannelFlaw flaw =
            powerChannelFlaw({.type = c.attribute("type").value(),
                              .target_type = target.attribute("type").value(),
                              .source_path = source.attribute("path").value(),
                              .source_mode = source.attribute("mode").value()},
                             /*path_required=*/false);
        if (std::string why = flawText(flaw, c); !why.empty()) {
            result.clashes.push_back("channel '" + name + "' " + why);
        }
        found.insert(*n);
        if (*n >= wantedCount) result.extra.push_back(*n);
    }
    for (unsigned n = 0; n < wantedCount; ++n) {
        (found.count(n) ? result.present : result.missing).push_back(n);
    }
    return result;
}

EditSummary DomainEditor::addPowerChannels(const ChannelRequest& request) {
    if (request.count == 0 || request.count > kMaxPowerChannels) {
        throw DomainEditError(Kind::TooManyChannels, std::to_string(request.count) +
                                                         " channels requested; between 1 and " +
                                                         std::to_string(kMaxPowerChannels) +
                                                         " are allowed");
    }
    const std::string domainName = name();
    if (domainName.empty()) throw DomainEditError(Kind::Malformed, "the domain has no <name>");
    if (request.socket_dir) {
        if (!request.socket_dir->is_absolute()) {
            throw std::invalid_argument("socket directory must be absolute");
        }
        if (domainName.find('/') != std::string::npos || domainName == "." || domainName == "..") {
            throw DomainEditError(Kind::Malformed,
                                  "domain name '" + domainName + "' cannot name a socket file");
        }
    }
    ChannelCheck before = check(request.count);
    if (!before.clashes.empty()) {
        std::string message = "the domain's channels conflict already:";
        for (const std::string& c : before.clashes) message += "\n  " + c;
        throw DomainEditError(Kind::Clash, message);
    }

    std::vector<std::string> paths;
    for (unsigned n : before.missing) {
        if (!request.socket_dir) break;
        std::string path = (*request.socket_dir / (domainName + "." + std::to_string(n)))
                               .lexically_normal()
                               .string();
        if (path.size() > kMaxSocketPathBytes) {
            throw DomainEditError(Kind::SocketPathTooLong, "socket path '" + path + "' is " +
                                                               std::to_string(path.size()) +
                                                               " bytes; AF_UNIX allows " +
                                                               std::to_string(kMaxSocketPathBytes));
        }
        paths.push_back(path);
    }

    EditSummary summary;
    summary.kept_channels = before.present;
    if (before.missing.empty()) return summary;

    const ports::Allocation alloc =
        ports::allocate(doc_->inventory(), static_cast<unsigned>(before.missing.size()));
    pugi::xml_node devices = doc_->devices();
    const layout::Indent indent = layout::forChildrenOf(devices);

    pugi::xml_node record = doc_->record(true);
    const layout::Indent recordIndent = layout::forChildrenOf(record);
    const std::string prefix = prefixOf(record);
    {
        const std::string controllerTag = prefix + "controller";
        pugi::xml_node after =
            doc_->lastChild(devices, {"controller", "filesystem", "disk", "emulator"});
        for (unsigned index : alloc.new_controllers) {
            pugi::xml_node c = layout::insertChild(devices, after, "controller", indent);
            c.append_attribute("type").set_value("virtio-serial");
            c.append_attribute("index").set_value(index);
            summary.devices.push_back({DeviceChange::Type::Controller, layout::serialize(c)});
            after = c;
            pugi::xml_node mark =
                layout::insertChild(record, {}, controllerTag.c_str(), recordIndent);
            mark.append_attribute("index").set_value(index);
        }
    }

    pugi::xml_node after = doc_->lastChild(devices, {"channel", "console", "serial"});
    for (std::size_t i = 0; i < before.missing.size(); ++i) {
        const unsigned n = before.missing[i];
        pugi::xml_node ch = layout::insertChild(devices, after, "channel", indent);
        ch.append_attribute("type").set_value("unix");
        pugi::xml_node source = layout::appendNested(ch, "source", indent);
        source.append_attribute("mode").set_value("bind");
        if (request.socket_dir) source.append_attribute("path").set_value(paths[i].c_str());
        pugi::xml_node target = layout::appendNested(ch, "target", indent);
        target.append_attribute("type").set_value("virtio");
        target.append_attribute("name").set_value(powerChannelName(n).c_str());
        pugi::xml_node address = layout::appendNested(ch, "address", indent);
        address.append_attribute("type").set_value("virtio-serial");
        address.append_attribute("controller").set_value(alloc.addresses[i].controller);
        address.append_attribute("bus").set_value("0");
        address.append_attribute("port").set_value(alloc.addresses[i].port);
        layout::closeElement(ch, indent);
        summary.devices.push_back({DeviceChange::Type::Channel, layout::serialize(ch)});
        after = ch;
        pugi::xml_node mark =
            layout::insertChild(record, {}, (prefix + "channel").c_str(), recordIndent);
        mark.append_attribute("name").set_value(target.attribute("name").value());
    }
    summary.metadata = layout::serialize(record, doc_->original);
    return summary;
}

EditSummary DomainEditor::removePowerChannels(bool all) {
    EditSummary summary;
    pugi::xml_node record = doc_->record(false);
    const std::set<std::string> recordedNames = recordedChannels(record);
    for (pugi::xml_node channel : doc_->powerChannels()) {
        if (!all && !recordedNames.count(channel.child("target").attribute("name").value()))
            continue;
        summary.devices.push_back(
            {DeviceChange::Type::Channel, layout::serialize(channel, doc_->original)});
        layout::removeWithLeadingWhitespace(channel);
    }
    // Forget the channels that are gone (removed now, or by someone else).
    std::set<std::string> remaining;
    for (pugi::xml_node channel : doc_->powerChannels()) {
        remaining.insert(channel.child("target").attribute("name").value());
    }
    bool forgot = false;
    for (pugi::xml_node m = record.first_child(); m;) {
        pugi::xml_node next = m.next_sibling();
        if (m.type() == pugi::node_element && localName(m) == "channel" &&
            !remaining.count(m.attribute("name").value())) {
            layout::removeWithLeadingWhitespace(m);
            forgot = true;
        }
        m = next;
    }
    if (!record) {
        if (!summary.devices.empty()) removeIfEmpty(doc_->domain().child("devices"));
        return summary;
    }

    const ports::Inventory inv = doc_->inventory();
    const std::set<unsigned> recorded = recordedControllers(record);
    std::vector<DeviceChange> controllers;
    for (unsigned index : recorded) {
        pugi::xml_node controller;
        for (pugi::xml_node c : doc_->domain().child("devices").children("controller")) {
            if (std::string_view(c.attribute("type").value()) == "virtio-serial" &&
                ports::decimalAttribute(c, "index").value_or(0) == index) {
                controller = c;
            }
        }
        const bool used =
            std::any_of(inv.used.begin(), inv.used.end(),
                        [&](const ports::PortUse& u) { return u.controller == index; }) ||
            (index == 0 && inv.unaddressed_channels > 0);
        if (controller && used) continue;  // someone else's devices now live on it: keep both
        if (controller) {
            controllers.push_back(
                {DeviceChange::Type::Controller, layout::serialize(controller, doc_->original)});
            layout::removeWithLeadingWhitespace(controller);
        }
        for (pugi::xml_node m = record.first_child(); m;) {
            pugi::xml_node next = m.next_sibling();
            if (m.type() == pugi::node_element && localName(m) == "controller" &&
                m.attribute("index").value() == std::to_string(index)) {
                layout::removeWithLeadingWhitespace(m);
            }
            m = next;
        }
    }
    summary.devices.insert(summary.devices.begin(), controllers.begin(), controllers.end());

    bool recordEmpty = true;
    for (pugi::xml_node m = record.first_child(); m; m = m.next_sibling()) {
        if (m.type() == pugi::node_element) recordEmpty = false;
    }
    if (recordEmpty) {
        pugi::xml_node metadata = record.parent();
        layout::removeWithLeadingWhitespace(record);
        removeIfEmpty(metadata);
        summary.metadata = std::string();
    } else if (!controllers.empty() || forgot) {
        summary.metadata = layout::serialize(record, doc_->original);
    }
    if (!summary.devices.empty()) removeIfEmpty(doc_->domain().child("devices"));
    return summary;
}

std::string withoutNamespace(std::string_view element) {
    pugi::xml_document doc;
    if (!doc.load_buffer(element.data(), element.size(), pugi::parse_default)) return {};
    std::vector<pugi::xml_node> todo{doc.document_element()};
    while (!todo.empty()) {
        pugi::xml_node n = todo.back();
        todo.pop_back();
        n.set_name(std::string(localName(n)).c_str());
        for (pugi::xml_attribute a = n.first_attribute(); a;) {
            pugi::xml_attribute next = a.next_attribute();
            std::string_view an = a.name();
            if (an == "xmlns" || an.substr(0, 6) == "xmlns:") n.remove_attribute(a);
            a = next;
        }
        for (pugi::xml_node c : n.children()) {
            if (c.type() == pugi::node_element) todo.push_back(c);
        }
    }
    return layout::serialize(doc.document_element());
}

std::string DomainEditor::toString() const {
    std::string out;
    std::size_t i = 0;
    for (pugi::xml_node n = doc_->xml.first_child(); n; n = n.next_sibling(), ++i) {
        if (i < doc_->gaps.size()) out += doc_->gaps[i];
        out += layout::serialize(n, doc_->original);
    }
    return out + doc_->tail;
}

}  // namespace vmpower

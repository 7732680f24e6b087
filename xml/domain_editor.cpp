#include "domain_editor.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <pugixml.hpp>
#include <set>

#include "domain_editor_layout.h"
#include "domain_editor_ports.h"
#include "domain_editor_record.h"
#include "power_channel.h"

namespace vmpower {

namespace {

using Kind = DomainEditError::Kind;

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

// Refuses a request no edit can satisfy, before anything changes.
void checkRequest(const ChannelRequest& request, const std::string& domainName) {
    if (request.count == 0 || request.count > kMaxPowerChannels) {
        throw DomainEditError(Kind::TooManyChannels, std::to_string(request.count) +
                                                         " channels requested; between 1 and " +
                                                         std::to_string(kMaxPowerChannels) +
                                                         " are allowed");
    }
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
}

void refuseClashes(const ChannelCheck& before) {
    if (before.clashes.empty()) return;
    std::string message = "the domain's channels conflict already:";
    for (const std::string& c : before.clashes) message += "\n  " + c;
    throw DomainEditError(Kind::Clash, message);
}

// DIR/<domain>.<n> of each missing channel; none when libvirt chooses.
std::vector<std::string> socketPaths(const ChannelRequest& request, const std::string& domainName,
                                     const std::vector<unsigned>& missing) {
    std::vector<std::string> paths;
    if (!request.socket_dir) return paths;
    for (unsigned n : missing) {
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
    return paths;
}

// New virtio-serial controllers, after the existing ones (or the storage).
void addControllers(pugi::xml_node devices, const std::vector<unsigned>& indexes,
                    const layout::Indent& indent, EditSummary& summary) {
    pugi::xml_node after =
        layout::lastChildNamed(devices, {"controller", "filesystem", "disk", "emulator"});
    for (unsigned index : indexes) {
        pugi::xml_node c = layout::insertChild(devices, after, "controller", indent);
        c.append_attribute("type").set_value("virtio-serial");
        c.append_attribute("index").set_value(index);
        summary.devices.push_back({DeviceChange::Type::Controller, layout::serialize(c)});
        after = c;
    }
}

// Power channels `numbers` at `addresses`, with socket `paths` (none: libvirt
// chooses), after the other channels and consoles; returns their names.
std::vector<std::string> addChannels(pugi::xml_node devices, const std::vector<unsigned>& numbers,
                                     const std::vector<std::string>& paths,
                                     const std::vector<ports::Address>& addresses,
                                     const layout::Indent& indent, EditSummary& summary) {
    std::vector<std::string> names;
    pugi::xml_node after = layout::lastChildNamed(devices, {"channel", "console", "serial"});
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        pugi::xml_node ch = layout::insertChild(devices, after, "channel", indent);
        ch.append_attribute("type").set_value("unix");
        pugi::xml_node source = layout::appendNested(ch, "source", indent);
        source.append_attribute("mode").set_value("bind");
        if (!paths.empty()) source.append_attribute("path").set_value(paths[i].c_str());
        pugi::xml_node target = layout::appendNested(ch, "target", indent);
        target.append_attribute("type").set_value("virtio");
        target.append_attribute("name").set_value(powerChannelName(numbers[i]).c_str());
        pugi::xml_node address = layout::appendNested(ch, "address", indent);
        address.append_attribute("type").set_value("virtio-serial");
        address.append_attribute("controller").set_value(addresses[i].controller);
        address.append_attribute("bus").set_value("0");
        address.append_attribute("port").set_value(addresses[i].port);
        layout::closeElement(ch, indent);
        summary.devices.push_back({DeviceChange::Type::Channel, layout::serialize(ch)});
        after = ch;
        names.push_back(target.attribute("name").value());
    }
    return names;
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

    std::set<std::string> powerChannelNames() const {
        std::set<std::string> names;
        for (pugi::xml_node channel : powerChannels()) {
            names.insert(channel.child("target").attribute("name").value());
        }
        return names;
    }

    // Takes out the power channels the record names (`all`: every one).
    std::vector<DeviceChange> removeChannels(const std::set<std::string>& recorded, bool all) {
        std::vector<DeviceChange> removed;
        for (pugi::xml_node channel : powerChannels()) {
            if (!all && !recorded.count(channel.child("target").attribute("name").value()))
                continue;
            removed.push_back({DeviceChange::Type::Channel, layout::serialize(channel, original)});
            layout::removeWithLeadingWhitespace(channel);
        }
        return removed;
    }

    // Takes out the controllers the record names, unless someone else's
    // devices now live on them, and forgets them.
    std::vector<DeviceChange> removeRecordedControllers(pugi::xml_node rec) {
        const ports::Inventory inv = inventory();
        std::vector<DeviceChange> removed;
        for (unsigned index : record::controllers(rec)) {
            pugi::xml_node controller;
            for (pugi::xml_node c : domain().child("devices").children("controller")) {
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
                removed.push_back(
                    {DeviceChange::Type::Controller, layout::serialize(controller, original)});
                layout::removeWithLeadingWhitespace(controller);
            }
            record::forgetController(rec, index);
        }
        return removed;
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
    const std::string domainName = name();
    checkRequest(request, domainName);
    const ChannelCheck before = check(request.count);
    refuseClashes(before);
    const std::vector<std::string> paths = socketPaths(request, domainName, before.missing);

    EditSummary summary;
    summary.kept_channels = before.present;
    if (before.missing.empty()) return summary;

    const ports::Allocation alloc =
        ports::allocate(doc_->inventory(), static_cast<unsigned>(before.missing.size()));
    const pugi::xml_node devices = doc_->devices();
    const layout::Indent indent = layout::forChildrenOf(devices);
    const pugi::xml_node rec = record::findOrAdd(doc_->domain());
    const layout::Indent recordIndent = layout::forChildrenOf(rec);
    addControllers(devices, alloc.new_controllers, indent, summary);
    for (unsigned index : alloc.new_controllers) {
        record::noteController(rec, index, recordIndent);
    }
    for (const std::string& channel :
         addChannels(devices, before.missing, paths, alloc.addresses, indent, summary)) {
        record::noteChannel(rec, channel.c_str(), recordIndent);
    }
    summary.metadata = layout::serialize(rec, doc_->original);
    return summary;
}

EditSummary DomainEditor::removePowerChannels(bool all) {
    EditSummary summary;
    const pugi::xml_node rec = record::find(doc_->domain());
    summary.devices = doc_->removeChannels(record::channels(rec), all);
    // Forget the channels that are gone (removed now, or by someone else).
    const bool forgot = record::forgetChannelsExcept(rec, doc_->powerChannelNames());
    if (!rec) {
        if (!summary.devices.empty()) layout::removeIfEmpty(doc_->domain().child("devices"));
        return summary;
    }
    const std::vector<DeviceChange> controllers = doc_->removeRecordedControllers(rec);
    summary.devices.insert(summary.devices.begin(), controllers.begin(), controllers.end());
    if (record::empty(rec)) {
        pugi::xml_node metadata = rec.parent();
        layout::removeWithLeadingWhitespace(rec);
        layout::removeIfEmpty(metadata);
        summary.metadata = std::string();
    } else if (!controllers.empty() || forgot) {
        summary.metadata = layout::serialize(rec, doc_->original);
    }
    if (!summary.devices.empty()) layout::removeIfEmpty(doc_->domain().child("devices"));
    return summary;
}

std::string withoutNamespace(std::string_view element) {
    pugi::xml_document doc;
    if (!doc.load_buffer(element.data(), element.size(), pugi::parse_default)) return {};
    std::vector<pugi::xml_node> todo{doc.document_element()};
    while (!todo.empty()) {
        pugi::xml_node n = todo.back();
        todo.pop_back();
        n.set_name(std::string(record::localName(n)).c_str());
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

#include "provisioner.h"

#include "atomic_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "line_diff.h"
#include "schema_validator.h"

namespace vmpower::provision {
namespace fs = std::filesystem;

namespace {

ExitStatus statusOf(DomainEditError::Kind kind) {
    switch (kind) {
        case DomainEditError::Kind::Malformed:
            return ExitStatus::BadXml;
        case DomainEditError::Kind::TooManyChannels:
            return ExitStatus::ChannelCount;
        case DomainEditError::Kind::SocketPathTooLong:
            return ExitStatus::SocketPathTooLong;
        case DomainEditError::Kind::Clash:
            return ExitStatus::Clash;
    }
    return ExitStatus::Internal;
}

// Runs an editor step, turning its errors into ProvisionErrors.
template <typename F>
auto editorStep(const std::string& what, F&& step) {
    try {
        return step();
    } catch (const DomainEditError& e) {
        throw ProvisionError(statusOf(e.kind()), what + ": " + e.what());
    }
}

ChannelRequest makeRequest(const DomainEditor& editor, const ChannelOptions& o) {
    ChannelRequest request;
    if (o.channels) {
        request.count = *o.channels;
    } else {
        const unsigned vcpus = editor.vcpuCount();
        if (vcpus > kMaxPowerChannels) {
            throw ProvisionError(ExitStatus::ChannelCount,
                                 "the domain has " + std::to_string(vcpus) + " vCPUs; at most " +
                                     std::to_string(kMaxPowerChannels) +
                                     " channels: give --channels N");
        }
        request.count = vcpus;
    }
    if (request.count == 0 || request.count > kMaxPowerChannels) {
        throw ProvisionError(ExitStatus::ChannelCount,
                             std::to_string(request.count) + " channels: between 1 and " +
                                 std::to_string(kMaxPowerChannels) + " are allowed");
    }
    if (!o.auto_path) request.socket_dir = fs::absolute(o.socket_dir.value_or(kDefaultSocketDir));
    return request;
}

std::string range(unsigned count) {
    return count == 1 ? "0" : "0.." + std::to_string(count - 1);
}

std::string list(const std::vector<unsigned>& v) {
    std::string s;
    for (unsigned n : v) s += (s.empty() ? "" : ",") + std::to_string(n);
    return s;
}

void validateOrThrow(const SchemaValidator& validator, const std::string& xml,
                     const std::string& what) {
    std::vector<SchemaIssue> issues = validator.validate(xml);
    if (!issues.empty()) {
        throw ProvisionError(
            ExitStatus::SchemaInvalid,
            what + " fails libvirt's schema; nothing changed:\n" + formatIssues(issues));
    }
}

}  // namespace

Provisioner::Provisioner(Hypervisor& hypervisor, HostFiles& files, const SchemaValidator& validator,
                         std::ostream& out, std::ostream& err)
    : hv_(hypervisor), files_(files), validator_(validator), out_(out), err_(err) {}

std::string Provisioner::validated(const std::string& xml, const std::string& what) const {
    validateOrThrow(validator_, xml, what);
    return xml;
}

void Provisioner::ensureUnchanged(const std::string& domain, const std::string& original) {
    // The domain may have changed since we read it (virsh edit, another
    // tool): defining our edit would silently undo that change.
    if (hv_.inactiveXml(domain) != original) {
        throw ProvisionError(ExitStatus::ChangedMeanwhile,
                             "the definition of '" + domain +
                                 "' changed while it was being edited; nothing changed: run "
                                 "the command again");
    }
}

void Provisioner::restore(const std::string& domain, const std::string& original) {
    try {
        hv_.define(original);
    } catch (const ProvisionError& e) {
        throw ProvisionError(ExitStatus::RollbackFailed,
                             "could not restore the definition of '" + domain + "': " + e.what());
    }
}

void Provisioner::applyLive(const std::string& domain, const std::string& original,
                            const std::string& edited, const EditSummary& change, bool adding) {
    // Adding: controllers before the channels that sit on them. Removing:
    // channels are unplugged; a controller leaves only the definition (its
    // PCI unplug needs the guest's cooperation, and an idle one is harmless).
    std::vector<DeviceChange> devices;
    for (const DeviceChange& d : change.devices) {
        if (adding || d.type == DeviceChange::Type::Channel) devices.push_back(d);
    }
    std::stable_sort(devices.begin(), devices.end(),
                     [](const auto& a, const auto& b) { return a.type < b.type; });
    std::vector<const DeviceChange*> done;
    try {
        for (const DeviceChange& d : devices) {
            if (adding) {
                hv_.attachDevice(domain, d.xml);
            } else {
                hv_.detachDevice(domain, d.xml);
            }
            done.push_back(&d);
        }
        if (change.metadata) hv_.setProvisionMetadata(domain, *change.metadata);
        if (!adding) hv_.define(edited);
    } catch (const ProvisionError& e) {
        err_ << "error: " << e.what() << "\nundoing the " << done.size() << " change(s) made\n";
        bool undone = true;
        for (auto it = done.rbegin(); it != done.rend(); ++it) {
            try {
                if (adding) {
                    hv_.detachDevice(domain, (*it)->xml);
                } else {
                    hv_.attachDevice(domain, (*it)->xml);
                }
            } catch (const ProvisionError& undo) {
                err_ << "error: " << undo.what() << "\n";
                undone = false;
            }
        }
        restore(domain, original);
        if (!undone) {
            throw ProvisionError(ExitStatus::RollbackFailed,
                                 "the running domain keeps part of the change; its definition "
                                 "was restored");
        }
        throw;
    }
}

ExitStatus Provisioner::editDomain(const DomainOptions& o) {
    const std::string original = hv_.inactiveXml(o.domain);
    DomainEditor editor = editorStep(o.domain, [&] { return DomainEditor(original); });
    const ChannelRequest request = makeRequest(editor, o.channels);
    const EditSummary change =
        editorStep(o.domain, [&] { return editor.addPowerChannels(request); });
    if (!change.changed()) {
        out_ << o.domain << ": power channels " << range(request.count)
             << " already present; nothing to do\n";
        return ExitStatus::Ok;
    }
    const std::string edited = validated(editor.toString(), "the edited XML of " + o.domain);
    const bool active = hv_.isActive(o.domain);
    if (o.dry_run) {
        out_ << unifiedDiff(original, edited, o.domain + " (inactive XML)", o.domain + " (edited)");
        if (active) out_ << "# " << o.domain << " is running: --live hot-plugs these devices\n";
        return ExitStatus::Ok;
    }
    if (active && !o.live) {
        throw ProvisionError(ExitStatus::DomainRunning,
                             o.domain +
                                 " is running: give --live to hot-plug the channels too, "
                                 "or shut it down first; nothing changed");
    }
    if (active && std::any_of(change.devices.begin(), change.devices.end(), [](const auto& d) {
            return d.type == DeviceChange::Type::Controller;
        })) {
        // libvirt (9.0) refuses to hot-plug virtio-serial controllers.
        throw ProvisionError(ExitStatus::LiveNeedsController,
                             o.domain +
                                 " has no free virtio-serial port and a new controller "
                                 "cannot be hot-plugged: shut the domain down and run "
                                 "without --live; nothing changed");
    }
    if (request.socket_dir) files_.ensureSocketDir(*request.socket_dir);
    const fs::path backup = files_.writeBackup(o.domain, original);
    err_ << "backup of the original definition: " << backup.string() << "\n";
    ensureUnchanged(o.domain, original);

    if (active) {
        applyLive(o.domain, original, edited, change, true);
    } else {
        hv_.define(edited);  // atomic: on failure libvirt keeps the old definition
    }
    // Trust, but verify: libvirt must now hold every channel.
    DomainEditor after(hv_.inactiveXml(o.domain));
    if (!after.check(request.count).complete()) {
        restore(o.domain, original);
        throw ProvisionError(ExitStatus::LibvirtRefused,
                             "libvirt did not keep the channels; the original definition was "
                             "restored");
    }
    unsigned added = 0;
    for (const DeviceChange& d : change.devices) added += d.type == DeviceChange::Type::Channel;
    out_ << o.domain << ": added " << added << " power channel(s); channels "
         << range(request.count) << " present" << (active ? " (hot-plugged)" : "") << "\n";
    return ExitStatus::Ok;
}

ExitStatus Provisioner::removeDomain(const DomainOptions& o) {
    const std::string original = hv_.inactiveXml(o.domain);
    DomainEditor editor = editorStep(o.domain, [&] { return DomainEditor(original); });
    const EditSummary change =
        editorStep(o.domain, [&] { return editor.removePowerChannels(o.all); });
    if (!change.changed()) {
        out_ << o.domain << ": no power channels vmpower added"
             << (o.all ? "" : " (--all takes any)") << "; nothing to do\n";
        return ExitStatus::Ok;
    }
    const std::string edited = validated(editor.toString(), "the edited XML of " + o.domain);
    const bool active = hv_.isActive(o.domain);
    if (o.dry_run) {
        out_ << unifiedDiff(original, edited, o.domain + " (inactive XML)", o.domain + " (edited)");
        return ExitStatus::Ok;
    }
    if (active && !o.live) {
        throw ProvisionError(ExitStatus::DomainRunning,
                             o.domain +
                                 " is running: give --live to unplug the channels too, "
                                 "or shut it down first; nothing changed");
    }
    const fs::path backup = files_.writeBackup(o.domain, original);
    err_ << "backup of the original definition: " << backup.string() << "\n";
    ensureUnchanged(o.domain, original);
    if (active) {
        applyLive(o.domain, original, edited, change, false);
    } else {
        hv_.define(edited);  // atomic: on failure libvirt keeps the old definition
    }
    DomainEditor after(hv_.inactiveXml(o.domain));
    const EditSummary left = after.removePowerChannels(o.all);
    if (std::any_of(left.devices.begin(), left.devices.end(),
                    [](const auto& d) { return d.type == DeviceChange::Type::Channel; })) {
        restore(o.domain, original);
        throw ProvisionError(ExitStatus::LibvirtRefused,
                             "libvirt kept power channels; the original definition was restored");
    }
    out_ << o.domain << ": removed " << change.devices.size() << " device(s)\n";
    return ExitStatus::Ok;
}

namespace {

ExitStatus report(std::ostream& out, const std::string& label, const DomainEditor& editor,
                  unsigned count) {
    const ChannelCheck c = editor.check(count);
    out << label << ": present " << (c.present.empty() ? "-" : list(c.present)) << "; missing "
        << (c.missing.empty() ? "-" : list(c.missing));
    if (!c.extra.empty()) out << "; extra " << list(c.extra);
    out << "\n";
    for (const std::string& clash : c.clashes) out << label << ": clash: " << clash << "\n";
    if (!c.clashes.empty()) return ExitStatus::CheckClash;
    return c.missing.empty() ? ExitStatus::Ok : ExitStatus::CheckMissing;
}

ExitStatus worse(ExitStatus a, ExitStatus b) {
    auto rank = [](ExitStatus s) {
        return s == ExitStatus::CheckClash ? 2 : s == ExitStatus::CheckMissing ? 1 : 0;
    };
    return rank(a) >= rank(b) ? a : b;
}

}  // namespace

ExitStatus Provisioner::checkDomain(const DomainOptions& o) {
    const std::string inactive = hv_.inactiveXml(o.domain);
    DomainEditor config = editorStep(o.domain, [&] { return DomainEditor(inactive); });
    const unsigned count = makeRequest(config, o.channels).count;
    ExitStatus status = report(out_, o.domain + " (config)", config, count);
    if (hv_.isActive(o.domain)) {
        const std::string live = hv_.liveXml(o.domain);
        DomainEditor running = editorStep(o.domain, [&] { return DomainEditor(live); });
        status = worse(status, report(out_, o.domain + " (running)", running, count));
    }
    return status;
}

ExitStatus editFile(const fs::path& input, const std::optional<fs::path>& output,
                    const ChannelOptions& channels, bool dry_run, const SchemaValidator& validator,
                    std::ostream& out, std::ostream& err) {
    std::ifstream in(input, std::ios::binary);
    if (!in) throw ProvisionError(ExitStatus::BadXml, "cannot read " + input.string());
    std::ostringstream text;
    text << in.rdbuf();
    const std::string original = text.str();
    DomainEditor editor = editorStep(input.string(), [&] { return DomainEditor(original); });
    const ChannelRequest request = makeRequest(editor, channels);
    const EditSummary change =
        editorStep(input.string(), [&] { return editor.addPowerChannels(request); });
    const std::string edited = editor.toString();
    validateOrThrow(validator, edited, "the edited XML");
    if (dry_run) {
        out << unifiedDiff(original, edited, input.string(), input.string() + " (edited)");
        return ExitStatus::Ok;
    }
    if (!change.changed()) err << input.string() << ": power channels already present\n";
    if (!output) {
        out << edited;
        return ExitStatus::Ok;
    }
    try {
        replaceFileAtomically(*output, edited);
    } catch (const std::runtime_error& e) {
        throw ProvisionError(ExitStatus::BadXml, "cannot write " + output->string() + ": " +
                                                     e.what());
    }
    return ExitStatus::Ok;
}

}  // namespace vmpower::provision

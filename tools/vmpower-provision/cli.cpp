#include "cli.h"

// GCC 12 reports a null dereference inside CLI11's inlined string splitting
// (a false positive, std::vector relocation); silence it for CLI11 only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include <optional>

#include "exit_status.h"
#include "host_files.h"
#include "provisioner.h"
#include "qemu_conf.h"
#include "schema_validator.h"

namespace vmpower::provision {
namespace fs = std::filesystem;

std::string exitStatusTable() {
    std::string s = "Exit status:\n";
    for (const ExitStatusInfo& e : kExitStatuses) {
        std::string code = std::to_string(static_cast<int>(e.status));
        s += "  " + std::string(4 - code.size(), ' ') + code + "  " + e.meaning + "\n";
    }
    return s;
}

namespace {

struct Args {
    std::string domain;
    std::string uri = "qemu:///system";
    std::string state_dir = kDefaultStateDir;
    std::optional<unsigned> channels;
    bool per_vcpu = false;
    std::optional<std::string> socket_dir;
    bool auto_path = false;
    bool dry_run = false;
    bool live = false;
    bool all = false;
    std::string input;
    std::optional<std::string> output;
};

void addChannelOptions(CLI::App* cmd, Args& a) {
    auto* channels =
        cmd->add_option("--channels", a.channels, "number of power channels (0..N-1), at most 64");
    auto* per_vcpu = cmd->add_flag("--per-vcpu", a.per_vcpu, "one channel per vCPU (the default)");
    channels->excludes(per_vcpu);
    auto* dir = cmd->add_option("--socket-dir", a.socket_dir,
                                std::string("directory of the sockets DIR/<domain>.<n> (default ") +
                                    kDefaultSocketDir + ")");
    auto* auto_path = cmd->add_flag("--auto-path", a.auto_path,
                                    "let libvirt choose the socket paths (AppArmor/SELinux hosts)");
    dir->excludes(auto_path);
}

void addConnectionOptions(CLI::App* cmd, Args& a) {
    cmd->add_option("--connect,-c", a.uri, "libvirt URI")->capture_default_str();
    cmd->add_option("--state-dir", a.state_dir, "where backups of the original XML go")
        ->capture_default_str();
}

ChannelOptions channelOptions(const Args& a) {
    ChannelOptions o;
    o.channels = a.channels;
    if (a.socket_dir) o.socket_dir = fs::path(*a.socket_dir);
    o.auto_path = a.auto_path;
    return o;
}

}  // namespace

int runCli(int argc, const char* const* argv, const CliEnvironment& env) {
    std::ostream& out = *env.out;
    std::ostream& err = *env.err;
    CLI::App app{
        "vmpower-provision: gives libvirt domains their power channels "
        "(virtio.serial.port.poweragent.N), safely."};
    app.footer(exitStatusTable());
    app.require_subcommand(1);
    Args a;

    CLI::App* edit = app.add_subcommand(
        "edit-domain", "add the virtio-serial controller and power channels to a domain");
    edit->add_option("domain", a.domain, "domain name")->required();
    addChannelOptions(edit, a);
    addConnectionOptions(edit, a);
    edit->add_flag("--dry-run", a.dry_run, "print a unified diff of the change; change nothing");
    edit->add_flag("--live", a.live, "also hot-plug into the running domain");

    CLI::App* file = app.add_subcommand("edit-file", "the same edit on an XML file, offline");
    file->add_option("input", a.input, "domain XML file")->required();
    file->add_option("-o,--output", a.output, "write here (default: standard output)");
    addChannelOptions(file, a);
    file->add_flag("--dry-run", a.dry_run, "print a unified diff; write nothing");

    CLI::App* remove = app.add_subcommand(
        "remove", "take out the power channels (and a controller only vmpower added)");
    remove->add_option("domain", a.domain, "domain name")->required();
    addConnectionOptions(remove, a);
    remove->add_flag("--dry-run", a.dry_run, "print a unified diff of the change; change nothing");
    remove->add_flag("--live", a.live, "also unplug from the running domain");
    remove->add_flag("--all", a.all, "also the power channels vmpower did not add");

    CLI::App* check = app.add_subcommand(
        "check", "report present, missing and clashing channels (exit 0, 20 or 21)");
    check->add_option("domain", a.domain, "domain name")->required();
    check->add_option("--channels", a.channels, "channels expected (default: one per vCPU)");
    check->add_flag("--per-vcpu", a.per_vcpu, "one channel per vCPU (the default)");
    addConnectionOptions(check, a);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e, out, err);
        return code == 0 ? 0 : static_cast<int>(ExitStatus::Usage);
    }

    try {
        SchemaValidator validator(env.schema);
        if (*file) {
            return static_cast<int>(
                editFile(a.input, a.output ? std::optional<fs::path>(*a.output) : std::nullopt,
                         channelOptions(a), a.dry_run, validator, out, err));
        }
        std::unique_ptr<Hypervisor> hv = env.connect(a.uri);
        HostFiles files(a.state_dir, readQemuConf(env.qemu_conf), err);
        Provisioner p(*hv, files, validator, out, err);
        DomainOptions o{a.domain, channelOptions(a), a.dry_run, a.live, a.all};
        ExitStatus status = *edit     ? p.editDomain(o)
                            : *remove ? p.removeDomain(o)
                                      : p.checkDomain(o);
        return static_cast<int>(status);
    } catch (const ProvisionError& e) {
        err << "vmpower-provision: " << e.what() << "\n";
        return static_cast<int>(e.status());
    } catch (const SchemaLoadError& e) {
        err << "vmpower-provision: " << e.what() << "\n";
        return static_cast<int>(ExitStatus::Internal);
    } catch (const std::exception& e) {
        err << "vmpower-provision: internal error: " << e.what() << "\n";
        return static_cast<int>(ExitStatus::Internal);
    }
}

}  // namespace vmpower::provision

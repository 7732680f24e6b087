#pragma once
// The commands of vmpower-provision, over a Hypervisor and the host's files.
// Every command either finishes or leaves the domain as it was.

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include "domain_editor.h"
#include "exit_status.h"
#include "host_files.h"
#include "hypervisor.h"

namespace vmpower {
class SchemaValidator;
}

namespace vmpower::provision {

struct ChannelOptions {
    std::optional<unsigned> channels;  // nullopt: one per vCPU
    // nullopt: DIR/<domain>.<n> under kDefaultSocketDir
    std::optional<std::filesystem::path> socket_dir;
    bool auto_path = false;  // let libvirt choose the socket paths
};

struct DomainOptions {
    std::string domain;
    ChannelOptions channels;
    bool dry_run = false;
    bool live = false;
    bool all = false;  // remove: also power channels vmpower did not add
};

class Provisioner {
  public:
    Provisioner(Hypervisor& hypervisor, HostFiles& files, const SchemaValidator& validator,
                std::ostream& out, std::ostream& err);

    ExitStatus editDomain(const DomainOptions& options);
    ExitStatus removeDomain(const DomainOptions& options);
    ExitStatus checkDomain(const DomainOptions& options);

  private:
    std::string validated(const std::string& xml, const std::string& what) const;
    void applyLive(const std::string& domain, const std::string& original,
                   const std::string& edited, const EditSummary& change, bool adding);
    // Throws ChangedMeanwhile when libvirt's definition is no longer `original`.
    void ensureUnchanged(const std::string& domain, const std::string& original);
    void restore(const std::string& domain, const std::string& original);

    Hypervisor& hv_;
    HostFiles& files_;
    const SchemaValidator& validator_;
    std::ostream& out_;
    std::ostream& err_;
};

// edit-file: the same edit on a file, offline (no libvirt, no host changes).
// `output` nullopt writes to `out`.
ExitStatus editFile(const std::filesystem::path& input,
                    const std::optional<std::filesystem::path>& output,
                    const ChannelOptions& channels, bool dry_run, const SchemaValidator& validator,
                    std::ostream& out, std::ostream& err);

}  // namespace vmpower::provision

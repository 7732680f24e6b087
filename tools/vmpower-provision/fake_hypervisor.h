#pragma once
// An in-memory Hypervisor for unit tests: domains by name, scripted failures.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "domain_editor.h"
#include "exit_status.h"
#include "hypervisor.h"

namespace vmpower::provision {

class FakeHypervisor : public Hypervisor {
  public:
    struct Domain {
        std::string config;
        bool active = false;
    };
    std::map<std::string, Domain> domains;
    std::vector<std::string> calls;  // "define", "attach <xml>", "detach <xml>", "metadata <xml>"
    int fail_attach_at = -1;         // fail the n-th attach (0-based)
    bool fail_define = false;
    bool drop_channels_on_define = false;  // a libvirt that silently loses them

    // Called on every inactiveXml read, before it answers: a test changes
    // the domain behind the tool's back here (another `virsh edit`).
    std::function<void(Domain&, int read)> on_read;

    std::string inactiveXml(const std::string& domain) override {
        Domain& d = get(domain);
        if (on_read) on_read(d, reads++);
        return d.config;
    }
    std::string liveXml(const std::string& domain) override { return get(domain).config; }
    bool isActive(const std::string& domain) override { return get(domain).active; }

    void define(const std::string& xml) override {
        calls.push_back("define");
        if (fail_define) throw ProvisionError(ExitStatus::LibvirtRefused, "define refused");
        DomainEditor e(xml);
        std::string stored = xml;
        if (drop_channels_on_define) {
            e.removePowerChannels();
            stored = e.toString();
        }
        domains[e.name()].config = stored;
    }
    void attachDevice(const std::string& domain, const std::string& xml) override {
        get(domain);
        if (fail_attach_at >= 0 && attaches++ == fail_attach_at) {
            calls.push_back("attach-failed");
            throw ProvisionError(ExitStatus::LibvirtRefused, "attach refused");
        }
        calls.push_back("attach " + xml);
    }
    void detachDevice(const std::string& domain, const std::string& xml) override {
        get(domain);
        calls.push_back("detach " + xml);
    }
    void setProvisionMetadata(const std::string& domain, const std::string& xml) override {
        get(domain);
        calls.push_back("metadata " + xml);
    }

  private:
    Domain& get(const std::string& name) {
        auto it = domains.find(name);
        if (it == domains.end()) {
            throw ProvisionError(ExitStatus::NoSuchDomain, "domain '" + name + "' not found");
        }
        return it->second;
    }
    int attaches = 0;
    int reads = 0;
};

}  // namespace vmpower::provision

#pragma once
// An in-memory hypervisor for the registry's tests: domains with the XML you
// give them, and lookups that can be told to fail as a lost libvirt
// connection does.

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "domain_source.h"

namespace vmpower::testing {

class FakeDomainSource final : public DomainSource {
  public:
    struct FakeDomain {
        std::string name;
        std::string xml;
        std::optional<std::vector<CpuSet>> vcpu_pins;
        bool active = true;
        // Non-empty: reading this domain fails with this error (libvirtd
        // dying mid-call, a timeout), which is not "no such domain".
        std::string fault = {};
    };

    void add(const std::string& uuid, FakeDomain d) { domains[uuid] = std::move(d); }

    std::vector<DomainSnapshot> listActive() override {
        ++calls;
        if (fail) throw std::runtime_error("not connected (fake)");
        std::vector<DomainSnapshot> out;
        for (const auto& [uuid, d] : domains) {
            if (d.active) out.push_back(snapshot(uuid, d));
        }
        return out;
    }
    std::optional<DomainSnapshot> lookupActive(std::string_view uuid) override {
        ++calls;
        if (fail) throw std::runtime_error("connection lost (fake)");
        auto it = domains.find(std::string(uuid));
        if (it == domains.end() || !it->second.active) return std::nullopt;
        return snapshot(it->first, it->second);
    }
    CpuSet hostCpus() override { return host; }
    std::optional<DomainName> lookupDefined(std::string_view name_or_uuid) override {
        if (fail) throw std::runtime_error("not connected (fake)");
        for (const auto& [uuid, d] : domains) {
            if (d.name == name_or_uuid || uuid == name_or_uuid) return DomainName{d.name, uuid};
        }
        return std::nullopt;
    }
    void pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus) override {
        if (fail) throw std::runtime_error("not connected (fake)");
        pins.push_back({std::string(name), vcpu, pcpus});
    }

    MetadataWrite setPowerIntent(std::string_view uuid, const std::string& element) override {
        ++metadata_calls;
        if (fail || metadata_fault) throw std::runtime_error("cannot set metadata (fake)");
        if (metadata_busy) return MetadataWrite::Busy;
        auto it = domains.find(std::string(uuid));
        if (it == domains.end() || !it->second.active) return MetadataWrite::Gone;
        metadata_writes.push_back({std::string(uuid), element, std::chrono::steady_clock::now()});
        return MetadataWrite::Written;
    }

    struct Pin {
        std::string name;
        unsigned vcpu;
        CpuSet pcpus;
    };
    std::map<std::string, FakeDomain> domains;  // by UUID
    CpuSet host{0, 1, 2, 3, 4, 5, 6, 7};
    bool fail = false;  // every call throws, as with libvirtd away
    int calls = 0;
    std::vector<Pin> pins;
    struct MetadataWritten {
        std::string uuid;
        std::string element;
        std::chrono::steady_clock::time_point at;
    };
    std::vector<MetadataWritten> metadata_writes;  // the ones that were Written
    int metadata_calls = 0;                        // every attempt
    bool metadata_busy = false;                    // a job runs on every domain
    bool metadata_fault = false;                   // setPowerIntent throws

  private:
    static DomainSnapshot snapshot(const std::string& uuid, const FakeDomain& d) {
        if (!d.fault.empty()) return DomainSnapshot{uuid, d.name, {}, std::nullopt, d.fault};
        return DomainSnapshot{uuid, d.name, d.xml, d.vcpu_pins, {}};
    }
};

}  // namespace vmpower::testing

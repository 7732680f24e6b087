#pragma once
// An in-memory hypervisor for the registry's tests: domains with the XML you
// give them, and lookups that can be told to fail as a lost libvirt
// connection does.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "domain_source.h"
#include "event_loop.h"

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

    // Answers are queued, as the real source's come later from its worker:
    // the next loop turn or settle() gives them (and any asked meanwhile),
    // in order. Each call
    // reads the fake's state when it is asked, as libvirt would.
    AsyncCall listActive(Done<ActiveDomains> done) override {
        ++calls;
        if (fail) return later<ActiveDomains>(std::move(done), refused("not connected (fake)"));
        ActiveDomains out;
        out.host_cpus = host;
        for (const auto& [uuid, d] : domains) {
            if (d.active) out.domains.push_back(snapshot(uuid, d));
        }
        return later<ActiveDomains>(std::move(done), std::move(out));
    }
    AsyncCall lookupActive(std::string_view uuid,
                           Done<std::optional<DomainSnapshot>> done) override {
        ++calls;
        using R = std::optional<DomainSnapshot>;
        if (fail) return later<R>(std::move(done), refused("connection lost (fake)"));
        auto it = domains.find(std::string(uuid));
        if (it == domains.end() || !it->second.active) return later<R>(std::move(done), R{});
        return later<R>(std::move(done), R{snapshot(it->first, it->second)});
    }
    CpuSet hostCpus() const override { return host; }
    AsyncCall lookupDefined(std::string_view name_or_uuid,
                            Done<std::optional<DomainName>> done) override {
        using R = std::optional<DomainName>;
        if (fail) return later<R>(std::move(done), refused("not connected (fake)"));
        for (const auto& [uuid, d] : domains) {
            if (d.name == name_or_uuid || uuid == name_or_uuid)
                return later<R>(std::move(done), R{DomainName{d.name, uuid}});
        }
        return later<R>(std::move(done), R{});
    }
    AsyncCall pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus,
                      DoneVerdict done) override {
        auto started = AsyncCall::start<Verdict>(std::move(done));
        AsyncCall call = std::move(started.first);
        auto answer = std::move(started.second);  // no structured binding: lambdas capture it
        if (fail) {
            queue_.push_back([answer] { answer(Verdict::refused("not connected (fake)")); });
        } else {
            pins.push_back({std::string(name), vcpu, pcpus});
            queue_.push_back([answer] { answer(Verdict::accepted()); });
        }
        deliver_.arm(std::chrono::milliseconds(0));
        return call;
    }

    AsyncCall setPowerIntent(std::string_view uuid, const std::string& element,
                             Done<MetadataWrite> done) override {
        ++metadata_calls;
        if (fail || metadata_fault)
            return later<MetadataWrite>(std::move(done), refused("cannot set metadata (fake)"));
        if (metadata_busy) return later<MetadataWrite>(std::move(done), MetadataWrite::Busy);
        auto it = domains.find(std::string(uuid));
        if (it == domains.end() || !it->second.active)
            return later<MetadataWrite>(std::move(done), MetadataWrite::Gone);
        metadata_writes.push_back({std::string(uuid), element, std::chrono::steady_clock::now()});
        return later<MetadataWrite>(std::move(done), MetadataWrite::Written);
    }

    // Gives every queued answer, and those asked while answering.
    void settle() {
        while (!queue_.empty()) {
            auto next = std::move(queue_.front());
            queue_.pop_front();
            next();
        }
    }
    std::size_t unanswered() const { return queue_.size(); }

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
    static Verdict refused(std::string why) { return Verdict::refused(std::move(why)); }
    template <typename T>
    AsyncCall later(Done<T> done, Checked<T> answer) {
        auto started = AsyncCall::start<Checked<T>>(std::move(done));
        AsyncCall call = std::move(started.first);
        auto give = std::move(started.second);  // no structured binding: lambdas capture it
        queue_.push_back([give, a = std::move(answer)]() mutable { give(std::move(a)); });
        deliver_.arm(std::chrono::milliseconds(0));
        return call;
    }
    std::deque<std::function<void()>> queue_;
    EventLoop::Timer deliver_{[this] { settle(); }};  // a loop turn answers too

    static DomainSnapshot snapshot(const std::string& uuid, const FakeDomain& d) {
        if (!d.fault.empty()) return DomainSnapshot{uuid, d.name, {}, std::nullopt, d.fault};
        return DomainSnapshot{uuid, d.name, d.xml, d.vcpu_pins, {}};
    }
};

}  // namespace vmpower::testing

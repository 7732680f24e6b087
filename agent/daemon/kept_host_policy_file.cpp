#include "kept_host_policy_file.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "atomic_file.h"
#include "log.h"

namespace vmpower {

KeptHostPolicyFile::KeptHostPolicyFile(std::filesystem::path file, RetryScheduler& retries,
                                       HostPolicyEngine& engine, const DomainRegistry& registry)
    : file_(std::move(file)), retries_(retries), engine_(engine), registry_(registry) {
    std::vector<std::string> problems;
    from_last_run_ = readKeptHostPolicies(file_, problems);
    for (const auto& p : problems) LOG(Agent).warn("{}: {}", file_.string(), p);
    written_ = keptHostPoliciesText(from_last_run_);
}

KeptHostPolicyFile::~KeptHostPolicyFile() {
    if (pending_.pending()) {
        pending_.reset();
        write();  // what is active now is what a restart restores
    }
}

void KeptHostPolicyFile::found(const Domain& d) {
    const std::string& uuid = d.identity.uuid;
    auto k = from_last_run_.find(uuid);
    if (k == from_last_run_.end()) return;
    KeptHostPolicy kept = std::move(k->second);
    from_last_run_.erase(k);
    const std::string type(nameIn(kHostPolicyTypeNames, kept.policy.type));
    if (kept.domain_id != d.id) {
        LOG(Agent).info("{}: kept host policy {} dropped: the domain was restarted (id {}, now {})",
                        d.identity.name, type, kept.domain_id, d.id);
        changed();
    } else if (engine_.view(uuid)) {
        changed();  // one came with a migration: it is newer
    } else {
        const Verdict verdict = engine_.set(d.identity, kept.policy, kept.origin);
        if (verdict) {
            LOG(Agent).info("{}: host policy {} set by the {} kept across the restart",
                            d.identity.name, type, originName(kept.origin));
        } else {
            LOG(Agent).warn("{}: kept host policy {} not applied: {}", d.identity.name, type,
                            verdict.reason());
            changed();
        }
    }
}

void KeptHostPolicyFile::dropUnclaimed() {
    if (from_last_run_.empty()) return;
    // Their domains are not running (or were restarted while we were not).
    for (const auto& [uuid, k] : from_last_run_)
        LOG(Agent).info("{}: its kept host policy is dropped: the domain is gone", k.name);
    from_last_run_.clear();
    changed();
}

void KeptHostPolicyFile::changed() {
    if (pending_.pending()) return;
    // Coalesced: a guest re-sending PKT_POLICY at its rate limit costs one
    // file write a second at the most.
    pending_ = retries_.schedule(std::chrono::seconds(1), [this] { write(); });
}

void KeptHostPolicyFile::write() noexcept {
    try {
        KeptHostPolicies kept = from_last_run_;  // not yet found after a restart
        for (auto& [uuid, view] : engine_.views()) {
            const Domain* d = registry_.find(uuid);
            if (d == nullptr || view.origin == PolicyOrigin::Rule) continue;
            kept[uuid] =
                KeptHostPolicy{d->identity.name, d->id, view.origin, std::move(view.policy)};
        }
        std::string text = keptHostPoliciesText(kept);
        if (text == written_) return;
        std::filesystem::create_directories(file_.parent_path());
        replaceStateFile(file_, text, 0600);
        written_ = std::move(text);
    } catch (const std::exception& e) {
        // Tried again at the next change.
        LOG(Agent).warn("{}: host policies not kept: {}", file_.string(), e.what());
    }
}

}  // namespace vmpower

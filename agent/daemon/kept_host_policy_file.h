#pragma once
// The guests' and operators' host policies kept across a vmpowerd restart
// (host-policies.json in the state directory, agent/hostpolicy's
// kept_host_policies format): read once at start, each applied again when
// its domain is found in the same run, written (coalesced, at most once a
// second) after the engine reports a change. The Agent only tells it when a
// domain is found and when something changed.

#include <filesystem>
#include <string>

#include "domain.h"
#include "domain_registry.h"
#include "host_policy_engine.h"
#include "kept_host_policies.h"
#include "retry_scheduler.h"

namespace vmpower {

class KeptHostPolicyFile {
  public:
    KeptHostPolicyFile(std::filesystem::path file, RetryScheduler& retries,
                       HostPolicyEngine& engine, const DomainRegistry& registry);
    ~KeptHostPolicyFile();  // a pending write is done now: a restart restores it
    KeptHostPolicyFile(const KeptHostPolicyFile&) = delete;
    KeptHostPolicyFile& operator=(const KeptHostPolicyFile&) = delete;

    // The domain runs: its policy kept from the last run (same domain id)
    // is set again, unless a migration brought a newer one.
    void found(const Domain& d);
    // After the first reconcile: the kept policies no domain claimed go.
    void dropUnclaimed();
    // A VM's host policy changed: the file follows (coalesced).
    void changed();

  private:
    void write() noexcept;

    std::filesystem::path file_;
    RetryScheduler& retries_;
    HostPolicyEngine& engine_;
    const DomainRegistry& registry_;
    // Read at start, each applied when its domain is found (same run only).
    KeptHostPolicies from_last_run_;
    std::string written_;           // the file's text as last written
    RetryScheduler::Call pending_;  // one coalesced write at a time
};

}  // namespace vmpower

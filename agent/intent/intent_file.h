#pragma once
// The intent store's file format (<state_dir>/intents.json): one entry per
// running VM, with the run it belongs to, so that a vmpowerd restart gives
// each domain back what it held — and nothing to a domain that was
// restarted meanwhile. Values only; IntentStateFile reads and writes it.
//
// {"format": "vmpower-intents", "version": 1, "boot_id": "<kernel boot id>",
//  "domains": {"<uuid>": {
//     "name": "vm1",                 (for people reading the file)
//     "domain_id": 7, "qemu_start": 123456,   (the run: agent/domain/domain_run.h)
//     "since": 1764504000,           (the last change, seconds since the epoch)
//     "vcpus": [{"vcpu": 0, "level": "max", "khz": 2600000, "turbo": true},
//               {"vcpu": 1, "level": "step", "from_top": 2, "of": 10}],
//     "host_policy": {"set_by": "guest", "policy": {"type": "workload", ...}}}}}
//
// A vCPU's level is the migration intent's portable position (max, min, or
// steps below the top of a range), khz is for people; "policy" holds
// common/host_policy.h's fields. A rule's own policy is never stored. The
// older host-policies.json (a guest's or operator's host policy per domain
// id) is read once, into the same entries.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain_run.h"
#include "power_intent.h"

namespace vmpower {

inline constexpr std::string_view kIntentFileFormat = "vmpower-intents";

struct StoredIntent {
    std::string name;
    DomainRun run;
    PowerIntent intent;
    std::chrono::system_clock::time_point since{};  // to the second
    bool operator==(const StoredIntent&) const = default;
};

using StoredIntents = std::map<std::string, StoredIntent, std::less<>>;  // by uuid

struct IntentFile {
    std::string boot_id;
    StoredIntents domains;
    bool operator==(const IntentFile&) const = default;
};

std::string intentFileText(const IntentFile& file);
// nullopt: not this agent's intent file at all (not JSON, another format or
// version) — one problem says why. A bad entry is a problem and left out.
std::optional<IntentFile> parseIntentFile(std::string_view text,
                                          std::vector<std::string>& problems);
// The older host-policies.json, as entries of the store (a host policy
// each, its domain id the run). nullopt: unreadable, one problem says why.
std::optional<StoredIntents> parseLegacyHostPolicies(std::string_view text,
                                                     std::vector<std::string>& problems);

}  // namespace vmpower

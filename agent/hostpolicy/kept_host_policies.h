#pragma once
// The guests' and operators' host policies kept across a vmpowerd restart:
// a JSON file in the state directory (host-policies.json), replaced
// atomically, read once at start. Each entry names the libvirt domain id
// of the run that set it, so a domain that was restarted while vmpowerd was
// down (a new id) does not get its old run's policy back. A rule's policy
// is not kept: the config file gives it again.
//
// {"version": 1, "domains": {"<uuid>": {"name": "vm1", "domain_id": 7,
//   "set_by": "guest", "policy": {"type": "workload", "vcpus": "0-1",
//   "workload": "high"}}}}
// "policy" holds common/host_policy.h's fields.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "host_policy.h"
#include "host_policy_sink.h"

namespace vmpower {

struct KeptHostPolicy {
    std::string name;  // for people reading the file
    int domain_id = -1;
    PolicyOrigin origin = PolicyOrigin::Guest;  // guest or operator
    HostPolicy policy;
    bool operator==(const KeptHostPolicy&) const = default;
};

using KeptHostPolicies = std::map<std::string, KeptHostPolicy, std::less<>>;  // by uuid

std::string keptHostPoliciesText(const KeptHostPolicies& kept);
// A bad entry is a problem and left out; the rest are kept. An unreadable
// file is one problem and nothing kept.
KeptHostPolicies parseKeptHostPolicies(std::string_view text, std::vector<std::string>& problems);
// A missing file: nothing kept, no problem.
KeptHostPolicies readKeptHostPolicies(const std::filesystem::path& file,
                                      std::vector<std::string>& problems);

}  // namespace vmpower

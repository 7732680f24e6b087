// libFuzzer target: PKT_POLICY's fields (decodePolicyRecord).
//
// Input: byte 0 is the VM's vCPU count (0-31); the rest, cut or zero-padded
// to 464 bytes, is the record (a shorter or longer record is tried too).
// Invariants checked: a refusal is given exactly when no policy is; an
// accepted policy names 1-8 distinct vCPUs of the VM, at most 10 MACs of 48
// bits, ordered traffic thresholds, and only hours a day has.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "policy_record.h"
#include "vmpower/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace vmpower;
    if (size < 1) return 0;
    const std::size_t vcpu_count = data[0] % 32;
    std::vector<std::byte> record(VMPOWER_PACKET_SIZE);
    std::memcpy(record.data(), data + 1, std::min<std::size_t>(size - 1, record.size()));

    const PolicyRecord r = decodePolicyRecord(record, vcpu_count);
    if (r.policy.has_value() == !r.refusal.empty()) std::abort();
    if (r.policy) {
        const HostPolicy& p = *r.policy;
        if (p.vcpus.empty() || p.vcpus.size() > VMPOWER_MAX_VCPU_PER_VM) std::abort();
        std::set<unsigned> distinct(p.vcpus.begin(), p.vcpus.end());
        if (distinct.size() != p.vcpus.size()) std::abort();
        for (unsigned v : p.vcpus) {
            if (v >= vcpu_count) std::abort();
        }
        if (p.macs.size() > VMPOWER_MAX_VFS) std::abort();
        for (std::uint64_t mac : p.macs) {
            if (mac >> 48 != 0) std::abort();
        }
        if (p.traffic.middle_pps > p.traffic.max_pps) std::abort();
        if (p.type != HostPolicyType::Time &&
            (p.busy_hours.any() || p.quiet_hours.any() || p.traffic_hours.any()))
            std::abort();
    }
    // Any size but 464 is refused, never read past: the input's own length
    // (one short of 464 when it is exactly that), never more than it holds.
    const std::size_t avail = size - 1;
    const std::size_t other = avail == VMPOWER_PACKET_SIZE ? avail - 1 : avail;
    std::vector<std::byte> odd(other);
    if (other > 0) std::memcpy(odd.data(), data + 1, other);  // an empty vector's data() may be null
    if (decodePolicyRecord(odd, vcpu_count).policy && odd.size() != VMPOWER_PACKET_SIZE)
        std::abort();
    return 0;
}

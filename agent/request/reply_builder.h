#pragma once
// Replies to guests. Each starts as zeroed bytes and only named fields are
// written into it: no padding or stale memory ever reaches a guest (DPDK's
// host bug 4).

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "vmpower/protocol.h"

namespace vmpower {

// The request echoed with `reply_command` (ACK or NACK), field by field, at
// the request's size (464 or 16). For a request with zero padding, as
// librte_power sends, an ACK is byte-identical to it.
std::vector<std::byte> echoReply(std::span<const std::byte> request, std::uint32_t reply_command);

struct PerVcpu {
    std::uint8_t num_vcpu = 0;                               // at most VMPOWER_MAX_VCPU_PER_VM
    std::array<std::uint64_t, VMPOWER_MAX_VCPU_PER_VM> a{};  // freq_list or turbo
    std::array<std::uint64_t, VMPOWER_MAX_VCPU_PER_VM> b{};  // priority (caps only)
};

// 88 bytes: command `reply_command` (FREQ_LIST, or NACK to refuse in the size
// the guest reads), resource_id, unit and vm_name echoed from the 464-byte
// request, freq_list from values.a (kHz).
std::vector<std::byte> freqListReply(std::span<const std::byte> request,
                                     std::uint32_t reply_command, const PerVcpu& values);
// 184 bytes: as above with turbo = values.a, priority = values.b.
std::vector<std::byte> capsListReply(std::span<const std::byte> request,
                                     std::uint32_t reply_command, const PerVcpu& values);

}  // namespace vmpower

#include "reply_builder.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace vmpower {

namespace {

// Copies request bytes [first, last) into the same place of the reply.
void copyRange(std::vector<std::byte>& out, std::span<const std::byte> in, std::size_t first,
               std::size_t last) {
    std::memcpy(out.data() + first, in.data() + first, last - first);
}

template <typename T>
void put(std::vector<std::byte>& out, std::size_t offset, const T& value) {
    std::memcpy(out.data() + offset, &value, sizeof value);
}

void setCommand(std::vector<std::byte>& out, std::uint32_t command) {
    put(out, offsetof(vmpower_packet, command), command);
}

// resource_id, unit, vm_name: the reply header shared by all reply structs.
template <typename Reply>
std::vector<std::byte> headerReply(std::span<const std::byte> request, std::uint32_t command) {
    static_assert(offsetof(Reply, vm_name) == offsetof(vmpower_packet, vm_name));
    std::vector<std::byte> out(sizeof(Reply));
    copyRange(out, request, 0, offsetof(vmpower_packet, vm_name) + VMPOWER_VM_NAME_LEN);
    setCommand(out, command);
    return out;
}

}  // namespace

std::vector<std::byte> echoReply(std::span<const std::byte> request, std::uint32_t reply_command) {
    std::vector<std::byte> out(request.size());
    if (request.size() == VMPOWER_PACKET_V1_SIZE) {
        copyRange(out, request, 0, VMPOWER_PACKET_V1_SIZE);  // no padding in the 2014 record
    } else {
        // Every field, skipping the padding after num_vcpu, core_type and
        // t_boost_status.
        using P = vmpower_packet;
        copyRange(out, request, 0, offsetof(P, num_vcpu) + sizeof(P::num_vcpu));
        copyRange(out, request, offsetof(P, timer_policy),
                  offsetof(P, core_type) + sizeof(P::core_type));
        copyRange(out, request, offsetof(P, workload),
                  offsetof(P, t_boost_status) + sizeof(P::t_boost_status));
    }
    setCommand(out, reply_command);
    return out;
}

std::vector<std::byte> freqListReply(std::span<const std::byte> request,
                                     std::uint32_t reply_command, const PerVcpu& values) {
    auto out = headerReply<vmpower_freq_list>(request, reply_command);
    for (std::size_t i = 0; i < VMPOWER_MAX_VCPU_PER_VM; ++i) {
        auto khz = static_cast<std::uint32_t>(std::min<std::uint64_t>(values.a[i], UINT32_MAX));
        put(out, offsetof(vmpower_freq_list, freq_list) + i * sizeof(std::uint32_t), khz);
    }
    put(out, offsetof(vmpower_freq_list, num_vcpu),
        std::min<std::uint8_t>(values.num_vcpu, VMPOWER_MAX_VCPU_PER_VM));
    return out;
}

std::vector<std::byte> capsListReply(std::span<const std::byte> request,
                                     std::uint32_t reply_command, const PerVcpu& values) {
    auto out = headerReply<vmpower_caps_list>(request, reply_command);
    for (std::size_t i = 0; i < VMPOWER_MAX_VCPU_PER_VM; ++i) {
        put(out, offsetof(vmpower_caps_list, turbo) + i * sizeof(std::uint64_t), values.a[i]);
        put(out, offsetof(vmpower_caps_list, priority) + i * sizeof(std::uint64_t), values.b[i]);
    }
    put(out, offsetof(vmpower_caps_list, num_vcpu),
        std::min<std::uint8_t>(values.num_vcpu, VMPOWER_MAX_VCPU_PER_VM));
    return out;
}

}  // namespace vmpower

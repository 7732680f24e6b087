#include "energy_answer.h"

#include <cstring>

#include "vmpower/protocol.h"

namespace vmpower {

namespace {

// Little endian whatever the host: the layout is the protocol.
template <typename T>
void putLe(std::vector<std::byte>& out, std::size_t offset, T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        out[offset + i] =
            static_cast<std::byte>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff);
    }
}

}  // namespace

std::vector<std::byte> energyReply(std::span<const std::byte> request,
                                   const std::optional<VmEnergyReading>& reading) {
    using E = vmpower_energy;
    static_assert(offsetof(E, vm_name) == offsetof(vmpower_packet, vm_name));
    std::vector<std::byte> out(sizeof(E));  // zeroed: no host memory reaches the guest
    // The header as the guest sent it (its own bytes, whatever their order).
    std::memcpy(out.data(), request.data(), offsetof(E, vm_name) + VMPOWER_VM_NAME_LEN);
    putLe<std::uint32_t>(out, offsetof(E, command), VMPOWER_ENERGY);
    if (!reading) return out;
    const VmEnergyReading& r = *reading;
    std::uint32_t flags = VMPOWER_ENERGY_AVAILABLE | (r.gap ? VMPOWER_ENERGY_GAP : 0u);
    putLe(out, offsetof(E, flags), flags);
    putLe(out, offsetof(E, num_vcpu), r.vcpu_count);
    putLe(out, offsetof(E, energy_uj), r.energy_uj);
    putLe(out, offsetof(E, watched_ms), r.watched_ms);
    putLe(out, offsetof(E, power_mw), r.power_mw);
    putLe(out, offsetof(E, interval_ms), r.interval_ms);
    for (std::size_t i = 0; i < VMPOWER_ENERGY_MAX_VCPUS; ++i) {
        putLe(out, offsetof(E, vcpu_energy_uj) + i * sizeof(std::uint64_t), r.vcpu_uj[i]);
    }
    return out;
}

}  // namespace vmpower

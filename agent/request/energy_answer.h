#pragma once
// The reply to vmpower's own VMPOWER_QUERY_ENERGY (464 bytes, struct
// vmpower_energy): the querying VM's own energy only, every field written
// little endian into zeroed bytes. Constant work: one reading, copied.

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "energy_source.h"

namespace vmpower {

// resource_id, unit and vm_name echoed from the 464-byte request. No
// reading (nullopt): flags 0, every count 0 — "unavailable", never a
// measured zero.
std::vector<std::byte> energyReply(std::span<const std::byte> request,
                                   const std::optional<VmEnergyReading>& reading);

}  // namespace vmpower

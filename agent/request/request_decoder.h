#pragma once
// One whole record from a guest, read field by field with nothing trusted:
// every value is checked here or by the caller before it is used.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "access_rules.h"
#include "power_control.h"

namespace vmpower {

enum class RequestKind {
    CpuPower,
    Connect,
    PktPolicy,
    PktPolicyRemove,
    QueryFreqList,
    QueryFreq,
    QueryCapsList,
    QueryCaps,
    QueryEnergy,  // vmpower's own (VMPOWER_QUERY_ENERGY)
    Unknown,
};
inline constexpr std::size_t kRequestKindCount = static_cast<std::size_t>(RequestKind::Unknown) + 1;

enum class CoreType { Virtual, Physical, Invalid };

struct DecodedRequest {
    RecordFormat format = RecordFormat::Dpdk464;
    RequestKind kind = RequestKind::Unknown;
    std::uint32_t command = 0;               // as sent
    std::uint32_t unit = 0;                  // as sent (0 for CONNECT: not read)
    std::optional<PowerAction> action;       // CPU_POWER with unit 1..6
    std::uint64_t resource_id = 0;           // not range-checked here
    CoreType core_type = CoreType::Virtual;  // legacy-16 has none: Virtual
};

// nullopt when the record is neither 464 nor 16 bytes. A CONNECT probe is
// built by DPDK from uninitialised stack memory: only `command` is read.
std::optional<DecodedRequest> decodeRecord(std::span<const std::byte> record);

// DPDK's names (CPU_POWER, PKT_POLICY, ...; "unknown" for Unknown).
const char* kindName(RequestKind kind);

}  // namespace vmpower

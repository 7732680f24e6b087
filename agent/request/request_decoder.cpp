#include "request_decoder.h"

#include <cstddef>
#include <cstring>

#include "record_field.h"
#include "vmpower/protocol.h"

namespace vmpower {

namespace {

RequestKind kindOf(std::uint32_t command) {
    switch (command) {
        case VMPOWER_CPU_POWER:
            return RequestKind::CpuPower;
        case VMPOWER_CPU_POWER_CONNECT:
            return RequestKind::Connect;
        case VMPOWER_PKT_POLICY:
            return RequestKind::PktPolicy;
        case VMPOWER_PKT_POLICY_REMOVE:
            return RequestKind::PktPolicyRemove;
        case VMPOWER_QUERY_FREQ_LIST:
            return RequestKind::QueryFreqList;
        case VMPOWER_QUERY_FREQ:
            return RequestKind::QueryFreq;
        case VMPOWER_QUERY_CAPS_LIST:
            return RequestKind::QueryCapsList;
        case VMPOWER_QUERY_CAPS:
            return RequestKind::QueryCaps;
        case VMPOWER_QUERY_ENERGY:
            return RequestKind::QueryEnergy;
        default:
            return RequestKind::Unknown;
    }
}

std::optional<PowerAction> actionOf(std::uint32_t unit) {
    switch (unit) {
        case VMPOWER_SCALE_UP:
            return PowerAction::ScaleUp;
        case VMPOWER_SCALE_DOWN:
            return PowerAction::ScaleDown;
        case VMPOWER_SCALE_MAX:
            return PowerAction::Max;
        case VMPOWER_SCALE_MIN:
            return PowerAction::Min;
        case VMPOWER_ENABLE_TURBO:
            return PowerAction::EnableTurbo;
        case VMPOWER_DISABLE_TURBO:
            return PowerAction::DisableTurbo;
        default:
            return std::nullopt;
    }
}

}  // namespace

std::optional<DecodedRequest> decodeRecord(std::span<const std::byte> record) {
    DecodedRequest req;
    if (record.size() == VMPOWER_PACKET_SIZE) {
        req.format = RecordFormat::Dpdk464;
    } else if (record.size() == VMPOWER_PACKET_V1_SIZE) {
        req.format = RecordFormat::Legacy16;
    } else {
        return std::nullopt;
    }
    // command, unit and resource_id sit at the same offsets in both formats.
    static_assert(offsetof(vmpower_packet_v1, command) == offsetof(vmpower_packet, command));
    static_assert(offsetof(vmpower_packet_v1, unit) == offsetof(vmpower_packet, unit));
    req.command = readAt<std::uint32_t>(record, offsetof(vmpower_packet, command));
    req.kind = kindOf(req.command);
    if (req.kind == RequestKind::Connect || req.kind == RequestKind::Unknown) return req;
    req.unit = readAt<std::uint32_t>(record, offsetof(vmpower_packet, unit));
    req.resource_id = readAt<std::uint64_t>(record, offsetof(vmpower_packet, resource_id));
    if (req.kind == RequestKind::CpuPower) req.action = actionOf(req.unit);
    if (req.format == RecordFormat::Dpdk464) {
        // A C bool: read the byte, never load a bool that may hold 2..255.
        auto raw = readAt<std::uint8_t>(record, offsetof(vmpower_packet, core_type));
        req.core_type = raw == VMPOWER_CORE_VIRTUAL    ? CoreType::Virtual
                        : raw == VMPOWER_CORE_PHYSICAL ? CoreType::Physical
                                                       : CoreType::Invalid;
    }
    return req;
}

const char* kindName(RequestKind kind) {
    switch (kind) {
        case RequestKind::CpuPower:
            return "CPU_POWER";
        case RequestKind::Connect:
            return "CONNECT";
        case RequestKind::PktPolicy:
            return "PKT_POLICY";
        case RequestKind::PktPolicyRemove:
            return "PKT_POLICY_REMOVE";
        case RequestKind::QueryFreqList:
            return "QUERY_FREQ_LIST";
        case RequestKind::QueryFreq:
            return "QUERY_FREQ";
        case RequestKind::QueryCapsList:
            return "QUERY_CAPS_LIST";
        case RequestKind::QueryCaps:
            return "QUERY_CAPS";
        case RequestKind::QueryEnergy:
            return "QUERY_ENERGY";
        case RequestKind::Unknown:
            break;
    }
    return "unknown";
}

}  // namespace vmpower

#include "wire.h"

#include <string.h>

size_t vmpower_wire_encode(uint8_t* buf, bool legacy, uint64_t resource_id, uint32_t unit,
                           uint32_t command) {
    /* Built through the structs so the layout is protocol.h's, each zeroed
     * as a whole first: padding must not carry stack bytes to the host.
     * core_type stays 0 (VIRTUAL): resource_id is our vCPU. */
    if (legacy) {
        struct vmpower_packet_v1 v1;
        memset(&v1, 0, sizeof v1);
        v1.resource_id = resource_id;
        v1.unit = unit;
        v1.command = command;
        memcpy(buf, &v1, sizeof v1);
        return sizeof v1;
    }
    struct vmpower_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.resource_id = resource_id;
    pkt.unit = unit;
    pkt.command = command;
    memcpy(buf, &pkt, sizeof pkt);
    return sizeof pkt;
}

size_t vmpower_wire_frame_size(const uint8_t* buf, size_t len, bool legacy) {
    if (len < VMPOWER_PACKET_V1_SIZE) return 0;
    if (legacy) return VMPOWER_PACKET_V1_SIZE; /* every legacy record is 16 bytes */
    switch (vmpower_wire_read_header(buf).command) {
        case VMPOWER_CMD_ACK:
        case VMPOWER_CMD_NACK:
            return VMPOWER_PACKET_SIZE;
        case VMPOWER_FREQ_LIST:
            return VMPOWER_FREQ_LIST_SIZE;
        case VMPOWER_CAPS_LIST:
            return VMPOWER_CAPS_LIST_SIZE;
        case VMPOWER_ENERGY:
            return VMPOWER_ENERGY_SIZE;
        default:
            return VMPOWER_WIRE_UNKNOWN;
    }
}

struct vmpower_wire_header vmpower_wire_read_header(const uint8_t* buf) {
    struct vmpower_wire_header h;
    memcpy(&h.resource_id, buf, sizeof h.resource_id);
    memcpy(&h.unit, buf + 8, sizeof h.unit);
    memcpy(&h.command, buf + 12, sizeof h.command);
    return h;
}

static uint64_t le64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

static uint32_t le32(const uint8_t* p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void vmpower_wire_decode_energy(const uint8_t* buf, struct vmpower_energy* out) {
    /* The reply is little endian whatever the host; the header (the guest's
     * own echoed bytes) is in the guest's order. */
    memset(out, 0, sizeof *out);
    struct vmpower_wire_header h = vmpower_wire_read_header(buf);
    out->resource_id = h.resource_id;
    out->unit = h.unit;
    out->command = le32(buf + offsetof(struct vmpower_energy, command));
    memcpy(out->vm_name, buf + offsetof(struct vmpower_energy, vm_name), sizeof out->vm_name);
    out->flags = le32(buf + offsetof(struct vmpower_energy, flags));
    out->num_vcpu = le32(buf + offsetof(struct vmpower_energy, num_vcpu));
    out->energy_uj = le64(buf + offsetof(struct vmpower_energy, energy_uj));
    out->watched_ms = le64(buf + offsetof(struct vmpower_energy, watched_ms));
    out->power_mw = le32(buf + offsetof(struct vmpower_energy, power_mw));
    out->interval_ms = le32(buf + offsetof(struct vmpower_energy, interval_ms));
    for (size_t i = 0; i < VMPOWER_ENERGY_MAX_VCPUS; ++i)
        out->vcpu_energy_uj[i] =
            le64(buf + offsetof(struct vmpower_energy, vcpu_energy_uj) + i * sizeof(uint64_t));
}

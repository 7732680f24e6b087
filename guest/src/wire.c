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

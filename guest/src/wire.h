/* Encoding requests and framing replies: pure functions over bytes, kept
 * apart from the port I/O so tests can check them byte for byte. */
#ifndef VMPOWER_GUEST_WIRE_H
#define VMPOWER_GUEST_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmpower/protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a request (all padding and unused fields zero) into buf, which
 * holds at least VMPOWER_PACKET_SIZE bytes; returns its size: 464, or 16
 * when legacy. */
size_t vmpower_wire_encode(uint8_t* buf, bool legacy, uint64_t resource_id, uint32_t unit,
                           uint32_t command);

/* Returned by vmpower_wire_frame_size for a record it cannot size. */
#define VMPOWER_WIRE_UNKNOWN SIZE_MAX

/* Size of the reply record at the start of `len` buffered bytes: 0 while
 * fewer than 16 bytes are known, VMPOWER_WIRE_UNKNOWN when its command is
 * no reply a host sends (the stream is out of step). */
size_t vmpower_wire_frame_size(const uint8_t* buf, size_t len, bool legacy);

/* The header every record starts with (resource_id, unit, command). */
struct vmpower_wire_header {
    uint64_t resource_id;
    uint32_t unit;
    uint32_t command;
};
struct vmpower_wire_header vmpower_wire_read_header(const uint8_t* buf);

/* A VMPOWER_ENERGY reply (VMPOWER_ENERGY_SIZE bytes, little endian) into
 * host-order fields. */
void vmpower_wire_decode_energy(const uint8_t* buf, struct vmpower_energy* out);

#ifdef __cplusplus
}
#endif

#endif /* VMPOWER_GUEST_WIRE_H */

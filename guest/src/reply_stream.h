/* The host -> guest byte stream of one channel, cut into reply records and
 * matched against the one request in flight. Pure (no I/O), so tests and
 * the fuzz target drive it directly. */
#ifndef VMPOWER_GUEST_REPLY_STREAM_H
#define VMPOWER_GUEST_REPLY_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmpower/guest.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vmpower_reply_stream {
    bool legacy; /* 16-byte records */
    size_t fill;
    uint64_t discarded;
    uint8_t buf[VMPOWER_PACKET_SIZE]; /* the largest record; one at a time */
};

/* The reply we wait for; everything else is discarded. */
struct vmpower_expected {
    uint64_t resource_id;
    uint32_t unit;
    uint32_t answer; /* VMPOWER_CMD_ACK (CPU_POWER), FREQ_LIST, CAPS_LIST or ENERGY */
    void* out;       /* a query's reply is copied here (out_size bytes) */
    size_t out_size;
    bool done;
    vmpower_status result; /* OK or ERR_NACK once done */
};

/* Where the next read may put up to *len bytes; never empty. */
uint8_t* vmpower_stream_space(struct vmpower_reply_stream* s, size_t* len);
/* Counts n bytes just read into the space. */
void vmpower_stream_commit(struct vmpower_reply_stream* s, size_t n);
/* Takes every whole record out of the buffer, stopping after the one that
 * answers e (e NULL: everything is stale and discarded). */
void vmpower_stream_consume(struct vmpower_reply_stream* s, struct vmpower_expected* e);

#ifdef __cplusplus
}
#endif

#endif /* VMPOWER_GUEST_REPLY_STREAM_H */

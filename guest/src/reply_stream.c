#include "reply_stream.h"

#include <string.h>

#include "wire.h"

uint8_t* vmpower_stream_space(struct vmpower_reply_stream* s, size_t* len) {
    /* consume() leaves less than one whole record behind. */
    *len = sizeof s->buf - s->fill;
    return s->buf + s->fill;
}

void vmpower_stream_commit(struct vmpower_reply_stream* s, size_t n) {
    s->fill += n;
}

static bool matches(const struct vmpower_expected* e, const uint8_t* rec, size_t size) {
    struct vmpower_wire_header h = vmpower_wire_read_header(rec);
    if (h.resource_id != e->resource_id) return false;
    if (h.command == VMPOWER_CMD_ACK || h.command == VMPOWER_CMD_NACK)
        /* An echo of our request: its unit says which one. An ACK answers
         * only CPU_POWER; a NACK may refuse a query too. */
        return h.unit == e->unit && (e->answer == VMPOWER_CMD_ACK || h.command == VMPOWER_CMD_NACK);
    return h.command == e->answer && size == e->out_size;
}

void vmpower_stream_consume(struct vmpower_reply_stream* s, struct vmpower_expected* e) {
    while (!(e && e->done)) {
        size_t size = vmpower_wire_frame_size(s->buf, s->fill, s->legacy);
        if (size == 0 || (size != VMPOWER_WIRE_UNKNOWN && size > s->fill))
            return; /* need more bytes */
        if (size == VMPOWER_WIRE_UNKNOWN) {
            /* No reply starts like this. A host writes each reply whole,
             * so the next read should start a record: drop what we hold. */
            s->discarded++;
            s->fill = 0;
            return;
        }
        if (e && matches(e, s->buf, size)) {
            uint32_t cmd = vmpower_wire_read_header(s->buf).command;
            e->done = true;
            e->result = cmd == VMPOWER_CMD_NACK ? VMPOWER_ERR_NACK : VMPOWER_OK;
            if (e->out && cmd == e->answer) memcpy(e->out, s->buf, e->out_size);
        } else {
            s->discarded++;
        }
        s->fill -= size;
        memmove(s->buf, s->buf + size, s->fill);
    }
}

// Fuzz target: arbitrary host bytes, cut into arbitrary reads, through the
// reply stream while a request waits. Checks the stream's invariants.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "reply_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    vmpower_reply_stream s;
    std::memset(&s, 0, sizeof s);
    s.legacy = (data[0] & 1) != 0;
    std::uint8_t out[VMPOWER_PACKET_SIZE];
    vmpower_expected e;
    std::memset(&e, 0, sizeof e);
    e.resource_id = data[1] & 3;
    e.unit = data[2] & 7;
    switch ((data[0] >> 1) % 3) {
        case 0:
            e.answer = VMPOWER_CMD_ACK;
            break;
        case 1:
            e.answer = VMPOWER_FREQ_LIST;
            e.out = out;
            e.out_size = VMPOWER_FREQ_LIST_SIZE;
            break;
        default:
            e.answer = VMPOWER_CAPS_LIST;
            e.out = out;
            e.out_size = VMPOWER_CAPS_LIST_SIZE;
            break;
    }
    std::size_t pos = 3;
    while (pos < size) {
        std::size_t chunk = data[pos++] % 97u + 1u;  // read sizes vary too
        std::size_t space = 0;
        std::uint8_t* at = vmpower_stream_space(&s, &space);
        if (space == 0 || space > sizeof s.buf) std::abort();
        std::size_t n = std::min({chunk, space, size - pos});
        std::memcpy(at, data + pos, n);
        vmpower_stream_commit(&s, n);
        pos += n;
        // After a match the rest is stale, as for the channel's next drain.
        vmpower_stream_consume(&s, e.done ? nullptr : &e);
        if (!e.done && s.fill >= sizeof s.buf) std::abort();
        if (e.done && e.result != VMPOWER_OK && e.result != VMPOWER_ERR_NACK) std::abort();
    }
    return 0;
}

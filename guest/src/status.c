#include "vmpower/guest.h"

const char* vmpower_strerror(vmpower_status status) {
    switch (status) {
        case VMPOWER_OK:
            return "ok";
        case VMPOWER_ERR_NACK:
            return "the host refused the request (NACK)";
        case VMPOWER_ERR_TIMEOUT:
            return "no reply from the host before the timeout";
        case VMPOWER_ERR_NOT_CONNECTED:
            return "host side not connected: no power agent serves this channel";
        case VMPOWER_ERR_NO_PORT:
            return "no such power channel port (channel not configured for this domain, "
                   "or virtio_console not loaded)";
        case VMPOWER_ERR_BUSY:
            return "the port is already open in another process";
        case VMPOWER_ERR_IO:
            return "I/O error on the port";
        case VMPOWER_ERR_INVALID:
            return "invalid argument";
        case VMPOWER_ERR_UNSUPPORTED:
            return "not possible with the legacy 16-byte record format";
        case VMPOWER_ERR_NOT_ANSWERED:
            return "the host did not answer: it does not know this query (a DPDK host, or "
                   "vmpowerd older than energy accounting)";
        case VMPOWER_ERR_UNAVAILABLE:
            return "the host measures no energy (no powercap counters), or has not sampled "
                   "this VM yet";
    }
    return "unknown vmpower status";
}

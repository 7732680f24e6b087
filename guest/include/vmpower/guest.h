/* vmpower guest library: ask the host for CPU frequency changes over a
 * virtio-serial power channel, as DPDK's librte_power (KVM-VM mode) does.
 *
 * One channel is one port, /dev/virtio-ports/virtio.serial.port.poweragent.<N>
 * (N is the guest lcore / vCPU by convention). A channel is not thread safe:
 * use one per thread, as DPDK does (one port per lcore). The port is opened
 * non-blocking; every call waits at most the channel's timeout.
 *
 * Usable from C11 and C++ (and from a DPDK application: it shares no names
 * with DPDK). Link with vmpower-guest's library; it needs only libc.
 */
#ifndef VMPOWER_GUEST_H
#define VMPOWER_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmpower/protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where ports live unless the options or $VMPOWER_PORT_DIR say otherwise. */
#define VMPOWER_DEFAULT_PORT_DIR "/dev/virtio-ports"
#define VMPOWER_PORT_DIR_ENV "VMPOWER_PORT_DIR"
#define VMPOWER_DEFAULT_TIMEOUT_MS 2000

typedef enum vmpower_status {
    VMPOWER_OK = 0,            /* ACK (or the query's answer) */
    VMPOWER_ERR_NACK,          /* the host refused the request */
    VMPOWER_ERR_TIMEOUT,       /* no reply before the timeout */
    VMPOWER_ERR_NOT_CONNECTED, /* no host process on the port (EAGAIN/POLLHUP) */
    VMPOWER_ERR_NO_PORT,       /* the port device does not exist */
    VMPOWER_ERR_BUSY,          /* the port is open in another process */
    VMPOWER_ERR_IO,            /* another system error: see vmpower_channel_errno */
    VMPOWER_ERR_INVALID,       /* bad argument */
    VMPOWER_ERR_UNSUPPORTED,   /* not possible with the legacy 16-byte format */
    VMPOWER_ERR_NOT_ANSWERED,  /* no reply to vmpower's own query: a DPDK host or an
                                  older vmpowerd does not know it (the timeout passed) */
    VMPOWER_ERR_UNAVAILABLE,   /* the host measures no energy (no powercap counters),
                                  or has not sampled this VM yet */
} vmpower_status;

/* A static, one-line description ("host side not connected ..."). */
const char* vmpower_strerror(vmpower_status status);

struct vmpower_channel_options {
    const char* port_dir; /* NULL: $VMPOWER_PORT_DIR, else /dev/virtio-ports */
    int timeout_ms;       /* per request; <= 0: VMPOWER_DEFAULT_TIMEOUT_MS */
    bool legacy;          /* 16-byte records (DPDK 1.8-17.08 hosts) */
};

/* Fills the defaults (NULL dir, default timeout, 464-byte records). */
void vmpower_channel_options_init(struct vmpower_channel_options* opts);

struct vmpower_channel;

/* Writes the path of port `port` under port_dir (NULL: as the options'
 * port_dir) into buf; returns false if it does not fit. */
bool vmpower_port_path(unsigned port, const char* port_dir, char* buf, size_t len);

/* Opens port <port_dir>/virtio.serial.port.poweragent.<port>. opts may be
 * NULL. On failure *out is NULL and the status says why. */
vmpower_status vmpower_channel_open(unsigned port, const struct vmpower_channel_options* opts,
                                    struct vmpower_channel** out);

/* Adopts an already open fd (made non-blocking; closed by
 * vmpower_channel_close, also on failure). For other transports and tests. */
vmpower_status vmpower_channel_open_fd(int fd, const struct vmpower_channel_options* opts,
                                       struct vmpower_channel** out);

/* Closes the port; NULL is allowed. Unread replies are discarded by the
 * kernel when a virtio port closes. */
void vmpower_channel_close(struct vmpower_channel* ch);

/* Asks the host to apply `unit` (VMPOWER_SCALE_UP ... VMPOWER_DISABLE_TURBO)
 * to vCPU `vcpu` and waits for the ACK or NACK. */
vmpower_status vmpower_cpu_power(struct vmpower_channel* ch, uint64_t vcpu, enum vmpower_unit unit);

/* Frequencies (kHz) of one vCPU (all=false: QUERY_FREQ, only
 * out->freq_list[vcpu] is meaningful; vcpu < 8) or of every vCPU (all=true:
 * QUERY_FREQ_LIST, out->num_vcpu entries). Not available in legacy mode. */
vmpower_status vmpower_query_freq(struct vmpower_channel* ch, uint64_t vcpu, bool all,
                                  struct vmpower_freq_list* out);

/* Turbo and high-priority flags, like vmpower_query_freq. */
vmpower_status vmpower_query_caps(struct vmpower_channel* ch, uint64_t vcpu, bool all,
                                  struct vmpower_caps_list* out);

/* vmpower's own query (not DPDK's): the VM's energy as the host accounts
 * it, whole and per vCPU, since the host began watching the VM (see the
 * host's docs/energy.md). `out` is filled, in host order, on VMPOWER_OK
 * (and zeroed otherwise); out->num_vcpu may exceed VMPOWER_ENERGY_MAX_VCPUS,
 * whose first entries only are sent. VMPOWER_ERR_NOT_ANSWERED after the
 * timeout when the host does not know the query (DPDK's own host ignores
 * it); VMPOWER_ERR_UNAVAILABLE when the host measures none; NACK when its
 * policy does not allow this VM energy queries. Not in legacy mode. */
vmpower_status vmpower_query_energy(struct vmpower_channel* ch, struct vmpower_energy* out);

/* errno behind the last VMPOWER_ERR_IO / NO_PORT / BUSY, else 0. */
int vmpower_channel_errno(const struct vmpower_channel* ch);

/* Replies read and thrown away because they answered no pending request
 * (late replies to timed-out requests, unknown records). */
uint64_t vmpower_channel_discarded(const struct vmpower_channel* ch);

/* One-shot convenience: open port `vcpu`, vmpower_cpu_power, close. */
vmpower_status vmpower_set_cpu_freq(unsigned vcpu, enum vmpower_unit unit,
                                    const struct vmpower_channel_options* opts);

#ifdef __cplusplus
}
#endif

#endif /* VMPOWER_GUEST_H */

/* The power channel client: port I/O, reply matching, timeouts. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reply_stream.h"
#include "vmpower/guest.h"
#include "wire.h"

struct vmpower_channel {
    int fd;
    int timeout_ms;
    bool is_socket; /* send(MSG_NOSIGNAL): a closed peer must not kill us */
    int last_errno;
    struct vmpower_reply_stream replies; /* survives requests: late replies */
};

void vmpower_channel_options_init(struct vmpower_channel_options* opts) {
    opts->port_dir = NULL;
    opts->timeout_ms = VMPOWER_DEFAULT_TIMEOUT_MS;
    opts->legacy = false;
}

static const char* port_dir_or_default(const char* dir) {
    if (dir && *dir) return dir;
    const char* env = getenv(VMPOWER_PORT_DIR_ENV);
    return env && *env ? env : VMPOWER_DEFAULT_PORT_DIR;
}

bool vmpower_port_path(unsigned port, const char* port_dir, char* buf, size_t len) {
    int n = snprintf(buf, len, "%s/%s%u", port_dir_or_default(port_dir), VMPOWER_PORT_PREFIX, port);
    return n > 0 && (size_t)n < len;
}

vmpower_status vmpower_channel_open_fd(int fd, const struct vmpower_channel_options* opts,
                                       struct vmpower_channel** out) {
    *out = NULL;
    if (fd < 0) return VMPOWER_ERR_INVALID;
    int flags = fcntl(fd, F_GETFL);
    struct vmpower_channel* ch = calloc(1, sizeof *ch);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || !ch) {
        close(fd);
        free(ch);
        return VMPOWER_ERR_IO;
    }
    struct vmpower_channel_options defaults;
    vmpower_channel_options_init(&defaults);
    if (!opts) opts = &defaults;
    struct stat st;
    ch->fd = fd;
    ch->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : VMPOWER_DEFAULT_TIMEOUT_MS;
    ch->replies.legacy = opts->legacy;
    ch->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    *out = ch;
    return VMPOWER_OK;
}

vmpower_status vmpower_channel_open(unsigned port, const struct vmpower_channel_options* opts,
                                    struct vmpower_channel** out) {
    *out = NULL;
    char path[4096];
    if (!vmpower_port_path(port, opts ? opts->port_dir : NULL, path, sizeof path))
        return VMPOWER_ERR_INVALID;
    /* O_NOCTTY: tests stand a pty in for the port. */
    int fd = open(path, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) { /* errno stays set for the caller */
        if (errno == ENOENT || errno == ENXIO || errno == ENODEV) return VMPOWER_ERR_NO_PORT;
        return errno == EBUSY ? VMPOWER_ERR_BUSY : VMPOWER_ERR_IO;
    }
    return vmpower_channel_open_fd(fd, opts, out);
}

void vmpower_channel_close(struct vmpower_channel* ch) {
    if (!ch) return;
    close(ch->fd);
    free(ch);
}

int vmpower_channel_errno(const struct vmpower_channel* ch) {
    return ch->last_errno;
}

uint64_t vmpower_channel_discarded(const struct vmpower_channel* ch) {
    return ch->replies.discarded;
}

/* Deadlines in microseconds, waits rounded up to whole milliseconds: a
 * timeout never ends before the time the caller asked for. */
static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int remaining_ms(int64_t deadline_us) {
    int64_t left = deadline_us - now_us();
    return left > 0 ? (int)((left + 999) / 1000) : 0;
}

/* Virtio ports report POLLHUP while no host process is connected. */
static bool host_gone(const struct vmpower_channel* ch) {
    struct pollfd p = {.fd = ch->fd, .events = POLLOUT};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

static vmpower_status io_error(struct vmpower_channel* ch, int err) {
    if (err == EPIPE || err == ECONNRESET || host_gone(ch)) return VMPOWER_ERR_NOT_CONNECTED;
    ch->last_errno = err;
    return VMPOWER_ERR_IO;
}

/* One read into the buffer: >0 bytes read, 0 nothing now, <0 status. */
static int read_some(struct vmpower_channel* ch, vmpower_status* st) {
    size_t space;
    uint8_t* at = vmpower_stream_space(&ch->replies, &space);
    ssize_t n = read(ch->fd, at, space);
    if (n > 0) {
        vmpower_stream_commit(&ch->replies, (size_t)n);
        return 1;
    }
    if (n == 0) { /* virtio: no data and no host */
        *st = VMPOWER_ERR_NOT_CONNECTED;
        return -1;
    }
    if (errno == EAGAIN || errno == EINTR) return 0;
    *st = io_error(ch, errno);
    return -1;
}

/* Reads whatever is already there: replies to earlier, timed-out requests
 * must not be taken for the answer to the next one. */
static vmpower_status drain(struct vmpower_channel* ch) {
    vmpower_status st = VMPOWER_OK;
    int r;
    vmpower_stream_consume(&ch->replies, NULL); /* leaves room to read into */
    while ((r = read_some(ch, &st)) > 0) vmpower_stream_consume(&ch->replies, NULL);
    return r < 0 ? st : VMPOWER_OK;
}

static vmpower_status write_record(struct vmpower_channel* ch, const uint8_t* rec, size_t len,
                                   int64_t deadline) {
    while (len > 0) {
        ssize_t n = ch->is_socket ? send(ch->fd, rec, len, MSG_NOSIGNAL) : write(ch->fd, rec, len);
        if (n > 0) {
            rec += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN) return io_error(ch, errno);
        /* EAGAIN: virtio_console says so while no host is connected (then
         * POLLHUP) and while the host does not drain the port. */
        struct pollfd p = {.fd = ch->fd, .events = POLLOUT};
        int r = poll(&p, 1, remaining_ms(deadline));
        if (r < 0 && errno != EINTR) return io_error(ch, errno);
        if (r == 0 || (p.revents & (POLLHUP | POLLERR))) return VMPOWER_ERR_NOT_CONNECTED;
    }
    return VMPOWER_OK;
}

static vmpower_status wait_reply(struct vmpower_channel* ch, struct vmpower_expected* p,
                                 int64_t deadline) {
    for (;;) {
        vmpower_stream_consume(&ch->replies, p);
        if (p->done) return p->result;
        int left = remaining_ms(deadline);
        if (left == 0) return VMPOWER_ERR_TIMEOUT;
        struct pollfd pfd = {.fd = ch->fd, .events = POLLIN};
        int r = poll(&pfd, 1, left);
        if (r < 0 && errno != EINTR) return io_error(ch, errno);
        if (r <= 0) continue;
        if (pfd.revents & POLLIN) {
            vmpower_status st;
            if (read_some(ch, &st) < 0) return st;
        } else if (pfd.revents & POLLHUP) {
            return VMPOWER_ERR_NOT_CONNECTED;
        } else if (pfd.revents & (POLLERR | POLLNVAL)) {
            ch->last_errno = EIO;
            return VMPOWER_ERR_IO;
        }
    }
}

static vmpower_status transact(struct vmpower_channel* ch, uint32_t command,
                               struct vmpower_expected* p) {
    if (!ch) return VMPOWER_ERR_INVALID;
    ch->last_errno = 0;
    int64_t deadline = now_us() + (int64_t)ch->timeout_ms * 1000;
    if (host_gone(ch)) return VMPOWER_ERR_NOT_CONNECTED;
    vmpower_status st = drain(ch);
    if (st != VMPOWER_OK) return st;
    uint8_t rec[VMPOWER_PACKET_SIZE];
    size_t len = vmpower_wire_encode(rec, ch->replies.legacy, p->resource_id, p->unit, command);
    st = write_record(ch, rec, len, deadline);
    return st == VMPOWER_OK ? wait_reply(ch, p, deadline) : st;
}

vmpower_status vmpower_cpu_power(struct vmpower_channel* ch, uint64_t vcpu,
                                 enum vmpower_unit unit) {
    if (unit < VMPOWER_SCALE_UP || unit > VMPOWER_DISABLE_TURBO) return VMPOWER_ERR_INVALID;
    struct vmpower_expected p = {
        .resource_id = vcpu, .unit = (uint32_t)unit, .answer = VMPOWER_CMD_ACK};
    return transact(ch, VMPOWER_CPU_POWER, &p);
}

static vmpower_status query(struct vmpower_channel* ch, uint64_t vcpu, bool all, uint32_t one,
                            uint32_t list, uint32_t answer, void* out, size_t out_size) {
    if (!ch || !out || (!all && vcpu >= VMPOWER_MAX_VCPU_PER_VM))
        return VMPOWER_ERR_INVALID; /* replies hold 8 vCPUs */
    if (ch->replies.legacy) return VMPOWER_ERR_UNSUPPORTED;
    memset(out, 0, out_size);
    struct vmpower_expected p = {
        .resource_id = vcpu, .unit = 0, .answer = answer, .out = out, .out_size = out_size};
    return transact(ch, all ? list : one, &p);
}

vmpower_status vmpower_query_freq(struct vmpower_channel* ch, uint64_t vcpu, bool all,
                                  struct vmpower_freq_list* out) {
    vmpower_status st = query(ch, vcpu, all, VMPOWER_QUERY_FREQ, VMPOWER_QUERY_FREQ_LIST,
                              VMPOWER_FREQ_LIST, out, sizeof *out);
    if (st == VMPOWER_OK && out->num_vcpu > VMPOWER_MAX_VCPU_PER_VM)
        out->num_vcpu = VMPOWER_MAX_VCPU_PER_VM; /* a host may claim more than fits */
    return st;
}

vmpower_status vmpower_query_caps(struct vmpower_channel* ch, uint64_t vcpu, bool all,
                                  struct vmpower_caps_list* out) {
    vmpower_status st = query(ch, vcpu, all, VMPOWER_QUERY_CAPS, VMPOWER_QUERY_CAPS_LIST,
                              VMPOWER_CAPS_LIST, out, sizeof *out);
    if (st == VMPOWER_OK && out->num_vcpu > VMPOWER_MAX_VCPU_PER_VM)
        out->num_vcpu = VMPOWER_MAX_VCPU_PER_VM;
    return st;
}

vmpower_status vmpower_query_energy(struct vmpower_channel* ch, struct vmpower_energy* out) {
    if (!ch || !out) return VMPOWER_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (ch->replies.legacy) return VMPOWER_ERR_UNSUPPORTED;
    uint8_t raw[VMPOWER_ENERGY_SIZE];
    struct vmpower_expected p = {
        .resource_id = 0, .unit = 0, .answer = VMPOWER_ENERGY, .out = raw, .out_size = sizeof raw};
    vmpower_status st = transact(ch, VMPOWER_QUERY_ENERGY, &p);
    /* A host that does not know the command sends nothing (DPDK's rule for
     * unknown commands); a late reply is drained by the next request. */
    if (st == VMPOWER_ERR_TIMEOUT) return VMPOWER_ERR_NOT_ANSWERED;
    if (st != VMPOWER_OK) return st;
    vmpower_wire_decode_energy(raw, out);
    return out->flags & VMPOWER_ENERGY_AVAILABLE ? VMPOWER_OK : VMPOWER_ERR_UNAVAILABLE;
}

vmpower_status vmpower_set_cpu_freq(unsigned vcpu, enum vmpower_unit unit,
                                    const struct vmpower_channel_options* opts) {
    struct vmpower_channel* ch;
    vmpower_status st = vmpower_channel_open(vcpu, opts, &ch);
    if (st == VMPOWER_OK) st = vmpower_cpu_power(ch, vcpu, unit);
    vmpower_channel_close(ch);
    return st;
}

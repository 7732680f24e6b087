/* A C program (or DPDK lcore) asking the host for frequency changes:
 *   scale_cores CORE up|down|min|max   then prints every vCPU's frequency.
 * Build: cc scale_cores.c -lvmpower_guest (meson builds it beside the library). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmpower/guest.h"

static int unit_from_word(const char* w) {
    static const char* const words[] = {"up", "down", "max", "min"};
    for (int i = 0; i < 4; i++)
        if (strcmp(w, words[i]) == 0) return VMPOWER_SCALE_UP + i; /* UP=1 DOWN=2 MAX=3 MIN=4 */
    return -1;
}

int main(int argc, char** argv) {
    int unit = argc == 3 ? unit_from_word(argv[2]) : -1;
    if (unit < 0) {
        fprintf(stderr, "usage: %s CORE up|down|min|max\n", argv[0]);
        return 2;
    }
    unsigned core = (unsigned)strtoul(argv[1], NULL, 10);

    struct vmpower_channel_options opts;
    vmpower_channel_options_init(&opts); /* /dev/virtio-ports, 2 s, 464-byte records */
    opts.timeout_ms = 500;

    /* One channel per lcore, opened once and kept, as DPDK's rte_power_init does. */
    struct vmpower_channel* ch;
    vmpower_status st = vmpower_channel_open(core, &opts, &ch);
    if (st != VMPOWER_OK) {
        fprintf(stderr, "open port %u: %s\n", core, vmpower_strerror(st));
        return 2;
    }

    st = vmpower_cpu_power(ch, core, (enum vmpower_unit)unit);
    printf("core %u %s: %s\n", core, argv[2], st == VMPOWER_OK ? "ACK" : vmpower_strerror(st));

    struct vmpower_freq_list freqs;
    if (st == VMPOWER_OK && vmpower_query_freq(ch, core, true, &freqs) == VMPOWER_OK) {
        for (unsigned i = 0; i < freqs.num_vcpu; i++)
            printf("vcpu %u: %u kHz\n", i, (unsigned)freqs.freq_list[i]);
    }
    vmpower_channel_close(ch);
    return st == VMPOWER_OK ? 0 : st == VMPOWER_ERR_NACK ? 1 : 2;
}

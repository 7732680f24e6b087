/* dpdk-power-guest: an unmodified DPDK application's side of the power
 * channel, for the real-VM test guest. It uses only Debian's librte_power
 * public API (KVM-VM mode), as a DPDK packet processor would, and no vmpower
 * code: it proves vmpowerd serves what DPDK itself sends.
 *
 *   dpdk-power-guest LCORE workload high|medium|low VCPUS
 *   dpdk-power-guest LCORE traffic MIN_PPS MIDDLE_PPS MAX_PPS VCPUS
 *   dpdk-power-guest LCORE remove
 *
 * LCORE picks the channel (virtio.serial.port.poweragent.LCORE); VCPUS is a
 * comma-separated list for vcpu_to_control. Prints one line
 *   DPDK-POWER ACK|NACK|NO-REPLY|SENT|ERROR <what>
 * and exits 0 on ACK (or SENT for remove, which DPDK's host never answers),
 * 1 on NACK, 2 on any error. Built by scripts/build-guest-image.sh against
 * libdpdk-dev (pkg-config libdpdk).
 */
/* rte_power_guest_channel_receive_msg is "experimental" in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API 1

#include <errno.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_power.h>
#include <rte_power_guest_channel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rte_power_guest_channel_receive_msg polls 10 ms per call; a loaded or
 * emulated (TCG) guest can take longer, so an application waits in turns. */
enum { REPLY_POLLS = 300 };

static int usage(void) {
    fprintf(stderr,
            "usage: dpdk-power-guest LCORE workload high|medium|low VCPUS\n"
            "       dpdk-power-guest LCORE traffic MIN_PPS MIDDLE_PPS MAX_PPS VCPUS\n"
            "       dpdk-power-guest LCORE remove\n");
    printf("DPDK-POWER ERROR usage\n");
    return 2;
}

static int parse_u32(const char* s, uint32_t* out) {
    char* end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}

/* "0,1" -> vcpu_to_control {0, 1}, num_vcpu 2 */
static int parse_vcpus(const char* s, struct rte_power_channel_packet* pkt) {
    char buf[64];
    if (strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    pkt->num_vcpu = 0;
    for (char* tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ",")) {
        uint32_t v;
        if (parse_u32(tok, &v) != 0 || v > 255 || pkt->num_vcpu >= RTE_POWER_MAX_VCPU_PER_VM)
            return -1;
        pkt->vcpu_to_control[pkt->num_vcpu++] = (uint8_t)v;
    }
    return pkt->num_vcpu > 0 ? 0 : -1;
}

/* The record from the words after LCORE; -1 on bad words. */
static int build_packet(int argc, char** argv, struct rte_power_channel_packet* pkt) {
    memset(pkt, 0, sizeof *pkt);
    pkt->core_type = RTE_POWER_CORE_TYPE_VIRTUAL;
    if (argc == 1 && strcmp(argv[0], "remove") == 0) {
        pkt->command = RTE_POWER_PKT_POLICY_REMOVE;
        return 0;
    }
    pkt->command = RTE_POWER_PKT_POLICY;
    if (argc == 3 && strcmp(argv[0], "workload") == 0) {
        pkt->policy_to_use = RTE_POWER_POLICY_WORKLOAD;
        if (strcmp(argv[1], "high") == 0)
            pkt->workload = RTE_POWER_WL_HIGH;
        else if (strcmp(argv[1], "medium") == 0)
            pkt->workload = RTE_POWER_WL_MEDIUM;
        else if (strcmp(argv[1], "low") == 0)
            pkt->workload = RTE_POWER_WL_LOW;
        else
            return -1;
        return parse_vcpus(argv[2], pkt);
    }
    if (argc == 5 && strcmp(argv[0], "traffic") == 0) {
        pkt->policy_to_use = RTE_POWER_POLICY_TRAFFIC;
        if (parse_u32(argv[1], &pkt->traffic_policy.min_packet_thresh) != 0 ||
            parse_u32(argv[2], &pkt->traffic_policy.avg_max_packet_thresh) != 0 ||
            parse_u32(argv[3], &pkt->traffic_policy.max_max_packet_thresh) != 0)
            return -1;
        pkt->nb_mac_to_monitor = 0; /* every interface of the VM */
        return parse_vcpus(argv[4], pkt);
    }
    return -1;
}

int main(int argc, char** argv) {
    if (argc < 3) return usage();
    uint32_t lcore;
    struct rte_power_channel_packet pkt;
    if (parse_u32(argv[1], &lcore) != 0 || lcore >= RTE_MAX_LCORE ||
        build_packet(argc - 2, argv + 2, &pkt) != 0)
        return usage();

    /* No hugepages, PCI or telemetry in the tiny guest (EAL still keeps its
     * runtime files under /var/run/dpdk). */
    char* eal_argv[] = {
        argv[0], "--no-huge", "-m", "32", "--no-pci", "--no-telemetry", "--log-level=*:warning",
        NULL};
    if (rte_eal_init((int)(sizeof eal_argv / sizeof eal_argv[0]) - 1, eal_argv) < 0) {
        printf("DPDK-POWER ERROR rte_eal_init: %s\n", rte_strerror(rte_errno));
        return 2;
    }
    int status = 2;
    if (rte_power_set_env(PM_ENV_KVM_VM) != 0) {
        printf("DPDK-POWER ERROR rte_power_set_env(PM_ENV_KVM_VM) failed\n");
        goto out;
    }
    if (rte_power_init(lcore) != 0) {
        printf("DPDK-POWER ERROR rte_power_init(%u) failed (no host on the channel?)\n", lcore);
        goto out;
    }
    if (rte_power_guest_channel_send_msg(&pkt, lcore) != 0) {
        printf("DPDK-POWER ERROR rte_power_guest_channel_send_msg failed\n");
        goto exit_power;
    }
    if (pkt.command == RTE_POWER_PKT_POLICY_REMOVE) {
        printf("DPDK-POWER SENT PKT_POLICY_REMOVE on lcore %u\n", lcore);
        status = 0;
        goto exit_power;
    }
    struct rte_power_channel_packet reply;
    int polls = 0;
    int got = -1;
    while (got != 0 && polls < REPLY_POLLS) {
        memset(&reply, 0, sizeof reply);
        got = rte_power_guest_channel_receive_msg(&reply, sizeof reply, lcore);
        ++polls;
    }
    if (got != 0) {
        printf("DPDK-POWER NO-REPLY to PKT_POLICY after %d polls\n", polls);
    } else if (reply.command == RTE_POWER_CMD_ACK) {
        printf("DPDK-POWER ACK PKT_POLICY policy %d on lcore %u (%d polls)\n",
               (int)pkt.policy_to_use, lcore, polls);
        status = 0;
    } else if (reply.command == RTE_POWER_CMD_NACK) {
        printf("DPDK-POWER NACK PKT_POLICY policy %d on lcore %u\n", (int)pkt.policy_to_use, lcore);
        status = 1;
    } else {
        printf("DPDK-POWER ERROR reply command %u\n", reply.command);
    }
exit_power:
    rte_power_exit(lcore);
out:
    rte_eal_cleanup();
    return status;
}

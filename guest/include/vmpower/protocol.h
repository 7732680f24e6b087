/* vmpower wire protocol: the one definition of the guest<->host record layout.
 *
 * Byte-compatible with DPDK's librte_power KVM-VM channel (18.11 and later,
 * rte_power_channel_packet and its two reply structs) and with the 16-byte
 * record of DPDK 1.8-17.08. Host byte order, natural LP64 alignment: the
 * padding is part of the format and must be zero in everything we send.
 * See docs/protocol.md. Usable from C11 and C++.
 */
#ifndef VMPOWER_PROTOCOL_H
#define VMPOWER_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The name prefix of a power channel's virtio-serial port; the suffix is
 * the guest lcore (vCPU) number. */
#define VMPOWER_PORT_PREFIX "virtio.serial.port.poweragent."

/* request commands (guest -> host) */
enum vmpower_command {
    VMPOWER_CPU_POWER = 1,
    VMPOWER_CPU_POWER_CONNECT = 2,
    VMPOWER_PKT_POLICY = 3,
    VMPOWER_PKT_POLICY_REMOVE = 4,
    VMPOWER_QUERY_FREQ_LIST = 7,
    VMPOWER_QUERY_FREQ = 8,
    VMPOWER_QUERY_CAPS_LIST = 9,
    VMPOWER_QUERY_CAPS = 10,
    /* vmpower's own, outside DPDK's numbers: a DPDK host ignores it (no
     * reply). Answered with struct vmpower_energy (docs/protocol.md). */
    VMPOWER_QUERY_ENERGY = 0x100,
};

/* reply commands (host -> guest); the numbers overlap the requests' */
enum vmpower_reply {
    VMPOWER_CMD_ACK = 1,
    VMPOWER_CMD_NACK = 2,
    VMPOWER_FREQ_LIST = 3,
    VMPOWER_CAPS_LIST = 4,
    VMPOWER_ENERGY = 0x100, /* reply to VMPOWER_QUERY_ENERGY */
};

/* units of VMPOWER_CPU_POWER */
enum vmpower_unit {
    VMPOWER_SCALE_UP = 1,
    VMPOWER_SCALE_DOWN = 2,
    VMPOWER_SCALE_MAX = 3,
    VMPOWER_SCALE_MIN = 4,
    VMPOWER_ENABLE_TURBO = 5,
    VMPOWER_DISABLE_TURBO = 6,
};

enum vmpower_core_type { VMPOWER_CORE_VIRTUAL = 0, VMPOWER_CORE_PHYSICAL = 1 };

#define VMPOWER_VM_NAME_LEN 32
#define VMPOWER_MAX_VFS 10
#define VMPOWER_MAX_VCPU_PER_VM 8
#define VMPOWER_HOURS 24

struct vmpower_traffic_policy {
    uint32_t min_packet_thresh;
    uint32_t avg_max_packet_thresh;
    uint32_t max_max_packet_thresh;
};

struct vmpower_timer_profile {
    int32_t busy_hours[VMPOWER_HOURS];
    int32_t quiet_hours[VMPOWER_HOURS];
    int32_t hours_to_use_traffic_profile[VMPOWER_HOURS];
};

struct vmpower_turbo_boost {
    bool tb_enabled;
};

/* Guest -> host, 464 bytes (DPDK's rte_power_channel_packet). Also the
 * layout of ACK/NACK replies: the request echoed with command changed. */
struct vmpower_packet {
    uint64_t resource_id; /* vCPU (VIRTUAL) or host CPU (PHYSICAL) */
    uint32_t unit;
    uint32_t command;
    char vm_name[VMPOWER_VM_NAME_LEN];
    uint64_t vfid[VMPOWER_MAX_VFS];
    int32_t nb_mac_to_monitor;
    struct vmpower_traffic_policy traffic_policy;
    uint8_t vcpu_to_control[VMPOWER_MAX_VCPU_PER_VM];
    uint8_t num_vcpu;
    struct vmpower_timer_profile timer_policy;
    bool core_type;
    int32_t workload;
    int32_t policy_to_use;
    struct vmpower_turbo_boost t_boost_status;
};

/* Host -> guest reply to QUERY_FREQ_LIST / QUERY_FREQ, 88 bytes. */
struct vmpower_freq_list {
    uint64_t resource_id;
    uint32_t unit;
    uint32_t command; /* VMPOWER_FREQ_LIST */
    char vm_name[VMPOWER_VM_NAME_LEN];
    uint32_t freq_list[VMPOWER_MAX_VCPU_PER_VM]; /* kHz */
    uint8_t num_vcpu;
};

/* Host -> guest reply to QUERY_CAPS_LIST / QUERY_CAPS, 184 bytes. */
struct vmpower_caps_list {
    uint64_t resource_id;
    uint32_t unit;
    uint32_t command; /* VMPOWER_CAPS_LIST */
    char vm_name[VMPOWER_VM_NAME_LEN];
    uint64_t turbo[VMPOWER_MAX_VCPU_PER_VM];
    uint64_t priority[VMPOWER_MAX_VCPU_PER_VM];
    uint8_t num_vcpu;
};

/* Host -> guest reply to VMPOWER_QUERY_ENERGY, 464 bytes: the size of a
 * request, so a NACK (the 464-byte echo) and the answer frame alike. Every
 * field little endian whatever the host; written into zeroed bytes. */
#define VMPOWER_ENERGY_MAX_VCPUS 48
#define VMPOWER_ENERGY_AVAILABLE 0x1u /* flags: the host measures energy */
#define VMPOWER_ENERGY_GAP 0x2u       /* flags: counted across an agent restart */
struct vmpower_energy {
    uint64_t resource_id;              /* echoed */
    uint32_t unit;                     /* echoed */
    uint32_t command;                  /* VMPOWER_ENERGY */
    char vm_name[VMPOWER_VM_NAME_LEN]; /* echoed */
    uint32_t flags;                    /* VMPOWER_ENERGY_AVAILABLE, VMPOWER_ENERGY_GAP */
    uint32_t num_vcpu;                 /* the VM's vCPUs; vcpu_energy_uj holds the first 48 */
    uint64_t energy_uj;                /* the whole VM, since the host began watching it */
    uint64_t watched_ms;               /* how long that is */
    uint32_t power_mw;                 /* average over interval_ms */
    uint32_t interval_ms;              /* the span up to this reading: the host holds a
                                          guest's reading for a period (10 s by default) */
    uint64_t vcpu_energy_uj[VMPOWER_ENERGY_MAX_VCPUS]; /* per vCPU, same period */
};

/* The 2014 design (DPDK 1.8 - 17.08), 16 bytes. */
struct vmpower_packet_v1 {
    uint64_t resource_id;
    uint32_t unit;
    uint32_t command;
};

#define VMPOWER_PACKET_SIZE 464u
#define VMPOWER_FREQ_LIST_SIZE 88u
#define VMPOWER_CAPS_LIST_SIZE 184u
#define VMPOWER_PACKET_V1_SIZE 16u
#define VMPOWER_ENERGY_SIZE 464u

#ifdef __cplusplus
#define VMPOWER_STATIC_ASSERT static_assert
#else
#define VMPOWER_STATIC_ASSERT _Static_assert
#endif

/* The layout is the protocol: any drift from DPDK's is a compile error. */
VMPOWER_STATIC_ASSERT(sizeof(struct vmpower_packet) == VMPOWER_PACKET_SIZE, "packet size");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, unit) == 8, "unit");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, command) == 12, "command");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, vm_name) == 16, "vm_name");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, vfid) == 48, "vfid");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, nb_mac_to_monitor) == 128, "nb_mac");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, traffic_policy) == 132, "traffic");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, vcpu_to_control) == 144, "vcpus");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, num_vcpu) == 152, "num_vcpu");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, timer_policy) == 156, "timer");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, core_type) == 444, "core_type");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, workload) == 448, "workload");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, policy_to_use) == 452, "policy");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_packet, t_boost_status) == 456, "boost");
VMPOWER_STATIC_ASSERT(sizeof(struct vmpower_freq_list) == VMPOWER_FREQ_LIST_SIZE, "freq size");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_freq_list, freq_list) == 48, "freq_list");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_freq_list, num_vcpu) == 80, "freq num_vcpu");
VMPOWER_STATIC_ASSERT(sizeof(struct vmpower_caps_list) == VMPOWER_CAPS_LIST_SIZE, "caps size");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_caps_list, turbo) == 48, "turbo");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_caps_list, priority) == 112, "priority");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_caps_list, num_vcpu) == 176, "caps num_vcpu");
VMPOWER_STATIC_ASSERT(sizeof(struct vmpower_packet_v1) == VMPOWER_PACKET_V1_SIZE, "v1 size");
VMPOWER_STATIC_ASSERT(sizeof(struct vmpower_energy) == VMPOWER_ENERGY_SIZE, "energy size");
VMPOWER_STATIC_ASSERT(VMPOWER_ENERGY_SIZE == VMPOWER_PACKET_SIZE, "energy frames like a NACK");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_energy, vm_name) == 16, "energy vm_name");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_energy, flags) == 48, "energy flags");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_energy, num_vcpu) == 52, "energy num_vcpu");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_energy, energy_uj) == 56, "energy_uj");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_energy, watched_ms) == 64, "watched_ms");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_energy, power_mw) == 72, "power_mw");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_energy, interval_ms) == 76, "interval_ms");
VMPOWER_STATIC_ASSERT(offsetof(struct vmpower_energy, vcpu_energy_uj) == 80, "vcpu_energy_uj");

#ifdef __cplusplus
}
#endif

#endif /* VMPOWER_PROTOCOL_H */

#include "query_answer.h"

#include <algorithm>

#include "reply_builder.h"

namespace vmpower {

bool isQuery(RequestKind kind) {
    return kind == RequestKind::QueryFreqList || kind == RequestKind::QueryFreq ||
           kind == RequestKind::QueryCapsList || kind == RequestKind::QueryCaps;
}

namespace {

bool isFreq(RequestKind kind) {
    return kind == RequestKind::QueryFreqList || kind == RequestKind::QueryFreq;
}

}  // namespace

std::vector<std::byte> queryNack(RequestKind kind, std::span<const std::byte> request) {
    return isFreq(kind) ? freqListReply(request, VMPOWER_CMD_NACK, PerVcpu{})
                        : capsListReply(request, VMPOWER_CMD_NACK, PerVcpu{});
}

Checked<std::vector<std::byte>> answerQuery(const DecodedRequest& req,
                                            std::span<const std::byte> request,
                                            const GuestIdentity& guest, const PowerControl& power) {
    const std::size_t vcpu_count = guest.vcpus ? guest.vcpus->vcpuCount() : 0;
    PerVcpu values;
    values.num_vcpu =
        static_cast<std::uint8_t>(std::min<std::size_t>(vcpu_count, VMPOWER_MAX_VCPU_PER_VM));
    std::size_t first = 0;
    std::size_t last = values.num_vcpu;
    if (req.kind == RequestKind::QueryFreq || req.kind == RequestKind::QueryCaps) {
        if (req.resource_id >= values.num_vcpu) {
            return Verdict::refused("vCPU " + std::to_string(req.resource_id) +
                                    " out of range (the reply holds " +
                                    std::to_string(values.num_vcpu) + ")");
        }
        first = static_cast<std::size_t>(req.resource_id);
        last = first + 1;
    }
    const bool freq = isFreq(req.kind);
    for (std::size_t i = first; i < last; ++i) {
        const CpuSet& pcpus = guest.vcpus->pcpus(i);
        if (pcpus.empty()) continue;  // unknown pinning: reported as 0
        // The lowest pCPU: an unpinned vCPU may run on every host CPU, and
        // reading them all would cost a sysfs read per CPU per query.
        const unsigned pcpu = pcpus.cpus().front();
        if (freq) {
            values.a[i] = power.currentFrequency(pcpu).value_or(0);
        } else {
            values.a[i] = power.turboCapable(pcpu) ? 1 : 0;
            values.b[i] = power.highPriority(pcpu) ? 1 : 0;
        }
    }
    return freq ? freqListReply(request, VMPOWER_FREQ_LIST, values)
                : capsListReply(request, VMPOWER_CAPS_LIST, values);
}

}  // namespace vmpower

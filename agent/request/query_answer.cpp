#include "query_answer.h"

#include <algorithm>
#include <optional>

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

// Whether `has` holds for every CPU a vCPU may run on: a capability it can
// count on wherever the host's scheduler puts it.
template <typename Predicate>
bool everyCpu(const CpuSet& pcpus, Predicate has) {
    bool all = true;
    pcpus.forEach([&](unsigned p) { all = all && has(p); });
    return all;
}

// The frequency of every CPU of `pcpus` when they all read the same, else
// none (CPUs at different frequencies, or one without cpufreq). It stops at
// the first CPU that differs: a vCPU pinned to one CPU costs one read, an
// unpinned one on a host at one frequency one read per CPU of its set.
std::optional<std::uint32_t> oneFrequency(const CpuSet& pcpus, const PowerControl& power) {
    std::optional<std::uint32_t> khz;
    bool first = true, same = true;
    pcpus.forEach([&](unsigned p) {
        if (!same) return;
        std::optional<std::uint32_t> here = power.currentFrequency(p);
        same = here && (first || here == khz);
        khz = here;
        first = false;
    });
    return same ? khz : std::nullopt;
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
    const bool single = req.kind == RequestKind::QueryFreq || req.kind == RequestKind::QueryCaps;
    if (single) {
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
        if (freq) {
            const std::optional<std::uint32_t> khz = oneFrequency(pcpus, power);
            // One vCPU asked about has no one answer: say so rather than
            // answer for a CPU it may not run on.
            if (!khz && single && pcpus.count() > 1)
                return Verdict::refused("vCPU " + std::to_string(i) + " may run on CPUs " +
                                        pcpus.toString() + ", which are not at one frequency");
            values.a[i] = khz.value_or(0);
        } else {
            values.a[i] = everyCpu(pcpus, [&](unsigned p) { return power.turboCapable(p); });
            values.b[i] = everyCpu(pcpus, [&](unsigned p) { return power.highPriority(p); });
        }
    }
    return freq ? freqListReply(request, VMPOWER_FREQ_LIST, values)
                : capsListReply(request, VMPOWER_CAPS_LIST, values);
}

}  // namespace vmpower

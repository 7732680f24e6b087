// The pure request path, per request, without sockets or the event loop:
// 464 bytes into a channel's RecordAssembler -> RequestHandler (decode,
// policy match, rate bucket, decision) -> Arbiter::apply on a private copy of
// the acpi-cpufreq fixture tree (real file writes under $TMPDIR) -> reply
// bytes. Method and results: bench/README.md.
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "make_arbiter.h"
#include "record_assembler.h"
#include "request_handler.h"
#include "sysfs_fixture.h"
#include "vmpower/protocol.h"

namespace vmpower::bench {
namespace {

constexpr const char* kUuid = "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e";

class NoSharing final : public PcpuSharing {
  public:
    bool sharedWithOtherDomain(std::string_view, const CpuSet&) const override { return false; }
};

// Answers like the Arbiter but touches nothing: isolates the decision from
// the sysfs writes.
class NullPower final : public PowerControl {
  public:
    PowerVerdict apply(const Requester&, const CpuSet&, PowerAction,
                       const FrequencyLimits&) override {
        return PowerVerdict{true, {}, {}};
    }
    void setFootprint(std::string_view, std::string_view, const CpuSet&) override {}
    void release(std::string_view) override {}
    void releaseOutside(const Requester&, const CpuSet&) override {}
    void releaseHolder(const Requester&) override {}
    std::optional<std::uint32_t> currentFrequency(unsigned) const override { return 2000000; }
    std::span<const std::uint32_t> availableFrequencies(unsigned) const override { return {}; }
    bool turboCapable(unsigned) const override { return false; }
    bool highPriority(unsigned) const override { return false; }
    std::optional<PowerDescription> describe(unsigned) const override { return std::nullopt; }
    HeldRequest heldBy(const Requester&, unsigned) const override { return {}; }
    CpuSet hostCpus() const override { return {}; }
    std::string lastRefusal(std::string_view) const override { return {}; }
};

std::vector<std::byte> record(std::uint32_t command, std::uint32_t unit,
                              std::uint64_t resource_id) {
    vmpower_packet p;
    std::memset(&p, 0, sizeof p);
    p.command = command;
    p.unit = unit;
    p.resource_id = resource_id;
    std::vector<std::byte> out(sizeof p);
    std::memcpy(out.data(), &p, sizeof p);
    return out;
}

// One channel of guest "vm1": vCPU 0 pinned to pCPU 1 (its own cpufreq
// policy1 in the acpi-cpufreq tree), vCPU 1 to pCPU 2 (policy2, shared with
// pCPU 3). Rate limit off: the bench sends far more than 100/s.
struct Rig {
    explicit Rig(bool real_cpufreq) {
        spdlog::set_level(spdlog::level::err);  // the NACK path warns (throttled)
        if (real_cpufreq) {
            fixture = std::make_unique<test::SysfsFixture>("acpi-cpufreq");
            CpufreqOptions o;
            o.sysfs_root = fixture->root();
            o.state_dir = fixture->scratch("state");
            o.proc_root = fixture->scratch("proc");
            arbiter = makeArbiter(o);
        }
        AccessRule rule;
        rule.name = "bench";
        rule.name_globs = {"*"};
        rule.requests_per_second = 0;
        rule.allowed_actions = {PowerAction::ScaleUp, PowerAction::ScaleDown};
        rules.replace(std::make_shared<const AccessRules>(std::vector<AccessRule>{rule}));
        handler = std::make_unique<RequestHandler>(
            real_cpufreq ? static_cast<PowerControl&>(*arbiter) : null_power, clock, sharing,
            rules);
        state = handler->newChannelState();
    }

    // One request through the assembler; returns the reply size.
    std::size_t serve(std::span<const std::byte> bytes) {
        std::size_t got = 0;
        assembler.feed(bytes, [&](std::span<const std::byte> rec) {
            auto reply = handler->handle(guest, *state, rec);
            got = reply.size();
            benchmark::DoNotOptimize(reply.data());
        });
        return got;
    }

    std::unique_ptr<test::SysfsFixture> fixture;
    std::unique_ptr<Arbiter> arbiter;
    NullPower null_power;
    SteadyClock clock;
    NoSharing sharing;
    VcpuMap vcpus{std::vector<CpuSet>{CpuSet{1}, CpuSet{2}}};
    GuestIdentity guest{"vm1", kUuid, &vcpus};
    RulesInForce rules;
    std::unique_ptr<RequestHandler> handler;
    ChannelRequestStatePtr state;
    RecordAssembler assembler{VMPOWER_PACKET_SIZE};
};

// CPU_POWER SCALE_UP / SCALE_DOWN alternating on vCPU 0: every request moves
// policy1 one step and writes scaling_setspeed (userspace governor).
void BM_CpuPowerUpDown(benchmark::State& st, bool real_cpufreq) {
    Rig rig(real_cpufreq);
    const auto up = record(VMPOWER_CPU_POWER, VMPOWER_SCALE_UP, 0);
    const auto down = record(VMPOWER_CPU_POWER, VMPOWER_SCALE_DOWN, 0);
    rig.serve(up);  // first touch: journal written, governor switched (not timed)
    rig.serve(down);
    bool flip = false;
    for (auto _ : st) {
        benchmark::DoNotOptimize(rig.serve(flip ? up : down));
        flip = !flip;
    }
    auto c = rig.handler->counters(*rig.state);
    if (c.acked != c.records) st.SkipWithError("not every request was ACKed");
    st.counters["acked"] = static_cast<double>(c.acked);
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK_CAPTURE(BM_CpuPowerUpDown, arbiter_sysfs, true);
BENCHMARK_CAPTURE(BM_CpuPowerUpDown, null_power, false);

// SCALE_MAX is not in the rule's allowed_actions: NACK, no CPU touched.
// The refusal warning is throttled to one per interval per channel.
void BM_Nack(benchmark::State& st) {
    Rig rig(true);
    const auto req = record(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 0);
    rig.serve(req);
    for (auto _ : st) benchmark::DoNotOptimize(rig.serve(req));
    auto c = rig.handler->counters(*rig.state);
    if (c.nacked != c.records) st.SkipWithError("not every request was NACKed");
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_Nack);

// QUERY_FREQ_LIST for vCPU 0: an 88-byte reply from policy1's frequency list.
void BM_QueryFreqList(benchmark::State& st) {
    Rig rig(true);
    const auto req = record(VMPOWER_QUERY_FREQ_LIST, 0, 0);
    if (rig.serve(req) != VMPOWER_FREQ_LIST_SIZE) st.SkipWithError("no 88-byte reply");
    for (auto _ : st) benchmark::DoNotOptimize(rig.serve(req));
    auto c = rig.handler->counters(*rig.state);
    if (c.answered != c.records) st.SkipWithError("not every query was answered");
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_QueryFreqList);

}  // namespace
}  // namespace vmpower::bench

BENCHMARK_MAIN();

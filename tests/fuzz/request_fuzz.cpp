// libFuzzer target: a guest's byte stream through the channel's reassembly,
// the record decoder and the policy decision, with a fake PowerControl.
//
// Input: byte 0 picks the record format and policy switches, byte 1 the
// vCPU count; the rest is the stream, cut into reads whose lengths come
// from the stream itself. Invariants checked: replies have a protocol size,
// nothing but an ACK reaches PowerControl, only allowed pCPUs are touched,
// query replies never claim more than 8 vCPUs, the counters add up (each record
// under one command, each NACK under one reason).
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <span>

#include "access_rules.h"
#include "fake_power_control.h"
#include "record_assembler.h"
#include "request_handler.h"
#include "vmpower/protocol.h"

namespace {

using namespace vmpower;

class FakeSharing final : public PcpuSharing {
  public:
    bool sharedWithOtherDomain(std::string_view, const CpuSet& pcpus) const override {
        return pcpus.contains(0);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = (spdlog::set_level(spdlog::level::off), true);  // refusals log
    (void)quiet;
    if (size < 2) return 0;
    const std::uint8_t flags = data[0];
    const unsigned vcpu_count = data[1] % 20;
    data += 2;
    size -= 2;

    AccessRule rule;
    rule.name_globs = {"guest-*"};
    rule.record_format = (flags & 1) ? RecordFormat::Legacy16 : RecordFormat::Dpdk464;
    rule.physical_addressing = (flags & 2) != 0;
    rule.multi_pcpu = (flags & 4) != 0;
    rule.shared_pcpus = (flags & 8) != 0;
    rule.queries = (flags & 16) != 0;
    rule.requests_per_second = (flags & 32) ? 5 : 0;
    rule.burst = 3;
    if (flags & 64) rule.allowed_pcpus = CpuSet{1, 2, 3, 4, 5, 6, 7, 8};
    const bool matched = (flags & 128) == 0;

    std::vector<CpuSet> pins;
    for (unsigned i = 0; i < vcpu_count; ++i) {
        CpuSet s{i % 12};
        if (i % 5 == 4) s.add(i % 12 + 1);  // some vCPUs pinned to two pCPUs
        pins.push_back(s);
    }
    VcpuMap vcpus(std::move(pins));
    const CpuSet allowed = rule.allowed_pcpus ? *rule.allowed_pcpus : vcpus.allPcpus();

    vmpower::testing::FakePowerControl power;
    power.apply_result = (flags & 96) != 96;
    for (unsigned cpu = 0; cpu <= 13; ++cpu) {
        if (cpu % 3 != 0) power.khz[cpu] = 1000000 + cpu;
        if (cpu % 2 == 0) power.turbo.insert(cpu);
    }
    power.priority = {1};
    ManualClock clock;
    FakeSharing sharing;
    const RulesInForce rules(std::make_shared<const AccessRules>(std::vector<AccessRule>{rule}));
    RequestHandler handler(power, clock, sharing, rules);
    auto state = handler.newChannelState();
    GuestIdentity guest{matched ? "guest-1" : "other", "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e",
                        &vcpus};
    RecordAssembler assembler(recordSize(rule.record_format));

    std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data), size);
    while (!stream.empty()) {
        // A length byte, then that read: 0 = the rest in one read, n = 4n bytes.
        const std::size_t want = std::to_integer<std::size_t>(stream[0]) * 4;
        stream = stream.subspan(1);
        const std::size_t len = want == 0 ? stream.size() : std::min(want, stream.size());
        assembler.feed(stream.first(len), [&](std::span<const std::byte> record) {
            const std::size_t before = power.calls.size();
            auto reply = handler.handle(guest, *state, record);
            clock.advance(std::chrono::milliseconds(50));
            const std::size_t n = reply.size();
            if (n != 0 && n != record.size() && n != VMPOWER_FREQ_LIST_SIZE &&
                n != VMPOWER_CAPS_LIST_SIZE)
                std::abort();
            if (n == 0 && power.calls.size() != before) std::abort();
            if (power.calls.size() != before) {
                if (!power.calls.back().pcpus.isSubsetOf(allowed)) std::abort();
                std::uint32_t cmd;
                std::memcpy(&cmd, reply.data() + 12, 4);
                if (power.apply_result != (cmd == VMPOWER_CMD_ACK)) std::abort();
            }
            if (n == VMPOWER_FREQ_LIST_SIZE && std::to_integer<unsigned>(reply[80]) > 8)
                std::abort();
            if (n == VMPOWER_CAPS_LIST_SIZE && std::to_integer<unsigned>(reply[176]) > 8)
                std::abort();
        });
        stream = stream.subspan(len);
    }
    RequestCounters c = handler.counters(*state);
    if (c.records != c.acked + c.nacked + c.ignored + c.answered) std::abort();
    // Every record under one command, every NACK under one reason.
    const auto sum = [](const auto& counts) {
        return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
    };
    if (sum(c.by_command) != c.records || sum(c.nacks_by_reason) != c.nacked) std::abort();
    assembler.reset();
    return 0;
}

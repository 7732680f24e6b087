// A VM's budget end to end: a guest flooding PKT_POLICY on 64 channels (one
// per lcore, DPDK's maximum) gets the budget of one VM, one log line per
// throttle interval, and another VM is answered throughout. Counts only, no
// timings: the request path's clock is moved by hand.

#include <gtest/gtest.h>

#include <string>

#include "log_capture.h"
#include "request_path_world.h"

namespace vmpower::test {
namespace {

using namespace std::chrono_literals;

constexpr unsigned kChannels = 64;

class RequestBudget : public RequestPath {
  protected:
    RequestBudget() { request_clock_ = &clock_; }

    // One identical PKT_POLICY (WORKLOAD HIGH on vCPU 0) on every channel
    // of the flooder, then every reply read: how many were ACKed.
    unsigned flood() {
        const Bytes record = policyRecord({.type = 2, .workload = 0, .vcpus = {0}});
        for (unsigned c = 0; c < kChannels; ++c)
            EXPECT_TRUE(q("flooder", c).sendAll(*agent_, record));
        unsigned acks = 0;
        for (unsigned c = 0; c < kChannels; ++c) {
            const Bytes reply = receive(q("flooder", c), kRecord);
            if (reply.size() != kRecord) continue;
            const auto command = get<std::uint32_t>(reply, offsetof(vmpower_packet, command));
            EXPECT_TRUE(command == VMPOWER_CMD_ACK || command == VMPOWER_CMD_NACK) << command;
            if (command == VMPOWER_CMD_ACK) ++acks;
        }
        sent_ += kChannels;
        return acks;
    }
    void bystanderServed(std::uint32_t unit) {
        expectReply("bystander", 0, cpuPower(0, unit), VMPOWER_CMD_ACK);
    }
    // The flooder's channels' counters, summed.
    RequestCounters flooderCounters() {
        RequestCounters sum;
        for (unsigned c = 0; c < kChannels; ++c) {
            const RequestCounters one = channel("flooder", c).stats().requests;
            sum.acked += one.acked;
            sum.nacked += one.nacked;
            sum.rate_limited += one.rate_limited;
        }
        return sum;
    }

    ManualClock clock_;
    unsigned sent_ = 0;
};

TEST_F(RequestBudget, AGuestFloodingPktPolicyOn64ChannelsHasTheBudgetOfOneVm) {
    LogCapture log;
    // acpi-cpufreq: the flooder on pCPU 1 (policy1), the bystander on pCPU 0.
    start("acpi-cpufreq",
          {{"flooder", {"1"}, static_cast<int>(kChannels), "1"}, {"bystander", {"0"}, 1, "0"}},
          "  - name: \"*\"\n"
          "    rate: 100\n"
          "    burst: 20\n"
          "    policy_rate: 1\n"
          "    policy_burst: 4\n");
    const double policy_rate = 1, policy_burst = 4;

    unsigned accepted = flood();
    bystanderServed(VMPOWER_SCALE_UP);
    clock_.advance(3s);
    accepted += flood();
    bystanderServed(VMPOWER_SCALE_DOWN);
    // The VM's budget: its burst and its rate over the time gone by, over
    // all its channels (64 buckets would have let 64 × 4 through at once).
    EXPECT_GT(accepted, 0U);
    EXPECT_LE(accepted, policy_burst + policy_rate * 3);
    const RequestCounters counters = flooderCounters();
    EXPECT_EQ(counters.acked, accepted);
    EXPECT_EQ(counters.nacked, sent_ - accepted);
    EXPECT_EQ(counters.rate_limited, sent_ - accepted) << "every NACK is the budget's";
    // The same policy again and again: held once, logged once.
    EXPECT_EQ(fixture_->read(kPolicy1 + "scaling_setspeed"), "3400000\n");
    EXPECT_EQ(log.linesWith({"vm flooder:", "policy workload"}).size(), 1U)
        << ::testing::PrintToString(log.lines());

    // Within the throttle interval: one refusal line for the VM, not one
    // per channel, and nothing said yet of the ones held back.
    EXPECT_EQ(log.linesWith({"vm flooder:", "NACK"}).size(), 1U);
    EXPECT_TRUE(log.linesWith({"vm flooder:", "similar messages suppressed"}).empty());
    const unsigned held_back = sent_ - accepted - 1;

    // The interval over, the next refusal logged says how many were held.
    clock_.advance(kLogThrottleInterval);
    const unsigned later = flood();
    EXPECT_LE(later, policy_burst) << "refilled to the burst, no further";
    const auto suppressed = log.linesWith({"vm flooder:", "similar messages suppressed"});
    ASSERT_EQ(suppressed.size(), 1U) << ::testing::PrintToString(log.lines());
    EXPECT_NE(suppressed[0].find("(" + std::to_string(held_back) + " similar messages suppressed)"),
              std::string::npos)
        << suppressed[0];
    EXPECT_EQ(log.linesWith({"vm flooder:", "NACK"}).size(), 2U);

    // The other VM was never held back, and still is not.
    bystanderServed(VMPOWER_SCALE_UP);
    EXPECT_TRUE(log.linesWith({"vm bystander:", "NACK"}).empty());
}

}  // namespace
}  // namespace vmpower::test

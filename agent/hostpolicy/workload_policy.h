#pragma once
// WORKLOAD: HIGH -> max, MEDIUM -> middle, LOW -> min, decided once.

#include "running_policy.h"

namespace vmpower {

class WorkloadPolicy final : public RunningPolicy {
  public:
    explicit WorkloadPolicy(Workload workload) : workload_(workload) {}

    PolicyDecision decide() const override;
    PolicyWakeups needs() const override { return {}; }
    bool dueAt(const PolicyWakeups&) const override { return false; }

  private:
    Workload workload_;
};

}  // namespace vmpower

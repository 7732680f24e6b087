#pragma once
// A token bucket: `rate` requests per second on average, bursts of `burst`.
// Parameters are passed on each call so a policy reload applies at once.

#include "clock.h"

namespace vmpower {

class TokenBucket {
  public:
    // True (and one token spent) when a request may go ahead. rate <= 0:
    // unlimited. A new bucket starts full.
    bool take(Clock::TimePoint now, double rate, unsigned burst);

  private:
    double tokens_ = 0;
    Clock::TimePoint last_{};
    bool started_ = false;
};

}  // namespace vmpower

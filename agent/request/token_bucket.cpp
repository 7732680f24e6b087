#include "token_bucket.h"

#include <algorithm>

namespace vmpower {

bool TokenBucket::take(Clock::TimePoint now, double rate, unsigned burst) {
    if (rate <= 0) return true;
    const double capacity = std::max(1U, burst);
    if (!started_) {
        started_ = true;
        tokens_ = capacity;
    } else if (now > last_) {
        std::chrono::duration<double> elapsed = now - last_;
        tokens_ = std::min(capacity, tokens_ + elapsed.count() * rate);
    }
    // A reload may have shrunk the bucket.
    tokens_ = std::min(tokens_, capacity);
    last_ = std::max(last_, now);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
}

}  // namespace vmpower

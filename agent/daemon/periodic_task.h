#pragma once
// A loop timer that runs one job every interval (the energy sample, the
// metrics textfile): the job is a loop callback, so nothing it throws
// escapes; it is logged under `what` in `category` and the next interval
// tries again.

#include <spdlog/common.h>

#include <chrono>
#include <functional>
#include <string>

#include "event_loop.h"
#include "log.h"

namespace vmpower {

class PeriodicTask {
  public:
    PeriodicTask(std::string what, LogCategory category, spdlog::level::level_enum level,
                 std::chrono::milliseconds interval, std::function<void()> job);
    PeriodicTask(const PeriodicTask&) = delete;
    PeriodicTask& operator=(const PeriodicTask&) = delete;

    // The first run after `first` (0: the next loop turn).
    void start(std::chrono::milliseconds first) { timer_.arm(first); }

  private:
    void run();

    std::string what_;
    LogCategory category_;
    spdlog::level::level_enum level_;
    std::chrono::milliseconds interval_;
    std::function<void()> job_;
    EventLoop::Timer timer_;
};

}  // namespace vmpower

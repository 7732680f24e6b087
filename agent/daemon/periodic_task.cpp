#include "periodic_task.h"

#include <spdlog/spdlog.h>

namespace vmpower {

PeriodicTask::PeriodicTask(std::string what, spdlog::level::level_enum level,
                           std::chrono::milliseconds interval, std::function<void()> job)
    : what_(std::move(what)),
      level_(level),
      interval_(interval),
      job_(std::move(job)),
      timer_([this] { run(); }) {}

void PeriodicTask::run() {
    timer_.arm(interval_);
    try {
        job_();
    } catch (const std::exception& e) {
        spdlog::log(level_, "{}: {}", what_, e.what());
    }
}

}  // namespace vmpower

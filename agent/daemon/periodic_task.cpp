#include "periodic_task.h"

#include <spdlog/spdlog.h>

namespace vmpower {

PeriodicTask::PeriodicTask(std::string what, LogCategory category, spdlog::level::level_enum level,
                           std::chrono::milliseconds interval, std::function<void()> job)
    : what_(std::move(what)),
      category_(category),
      level_(level),
      interval_(interval),
      job_(std::move(job)),
      timer_([this] { run(); }) {}

void PeriodicTask::run() {
    timer_.arm(interval_);
    try {
        job_();
    } catch (const std::exception& e) {
        logger(category_).log(level_, "{}: {}", what_, e.what());
    }
}

}  // namespace vmpower

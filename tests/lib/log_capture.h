#pragma once
// The log as the agent's sinks receive it, for tests that read what is
// logged: installs a default logger writing to memory (every LOG(Category)
// writes through the default logger's sinks) and puts the previous one back.

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace vmpower::test {

class LogCapture {
  public:
    LogCapture() {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out_);
        sink->set_pattern("%l %n: %v");
        auto logger = std::make_shared<spdlog::logger>("capture", sink);
        logger->set_level(previous_->level());
        spdlog::set_default_logger(std::move(logger));
    }
    ~LogCapture() { spdlog::set_default_logger(previous_); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    std::vector<std::string> lines() const {
        std::vector<std::string> out;
        std::istringstream in(out_.str());
        for (std::string line; std::getline(in, line);) out.push_back(line);
        return out;
    }
    // The lines holding every one of `parts`.
    std::vector<std::string> linesWith(std::initializer_list<std::string_view> parts) const {
        std::vector<std::string> out;
        for (const std::string& line : lines()) {
            if (std::all_of(parts.begin(), parts.end(),
                            [&](std::string_view p) { return line.find(p) != std::string::npos; }))
                out.push_back(line);
        }
        return out;
    }

  private:
    std::ostringstream out_;
    std::shared_ptr<spdlog::logger> previous_ = spdlog::default_logger();
};

}  // namespace vmpower::test

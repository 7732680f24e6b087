#pragma once
// Talks to a running vmpowerd over its control socket (one JSON line each way).

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vmpower {

class ControlError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Throws ControlError when the agent cannot be reached or does not answer.
nlohmann::json controlRequest(const std::filesystem::path& socket, const nlohmann::json& request,
                              std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace vmpower

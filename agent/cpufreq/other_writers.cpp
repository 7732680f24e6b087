#include "other_writers.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <string_view>

#include "log.h"

namespace vmpower {

namespace fs = std::filesystem;

namespace {

// comm is truncated to 15 characters: power-profiles-daemon shows as
// "power-profiles-".
constexpr std::array<std::string_view, 3> kWriters = {"tuned", "power-profiles-daemon", "thermald"};

bool isPid(const std::string& name) {
    return !name.empty() &&
           std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<std::string> findOtherCpufreqWriters(const fs::path& proc_root) {
    std::vector<std::string> found;
    std::error_code ec;
    for (fs::directory_iterator it(proc_root, ec), end; !ec && it != end; it.increment(ec)) {
        if (!isPid(it->path().filename().string())) continue;
        std::ifstream in(it->path() / "comm");  // processes may exit meanwhile: skip quietly
        std::string comm;
        if (!std::getline(in, comm)) continue;
        for (std::string_view w : kWriters) {
            if (comm == w.substr(0, 15)) found.emplace_back(w);
        }
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
}

std::vector<std::string> warnAboutOtherCpufreqWriters(const fs::path& proc_root) {
    auto found = findOtherCpufreqWriters(proc_root);
    for (const auto& name : found) {
        LOG(Cpufreq).warn(
            "cpufreq: {} is running and also writes cpufreq settings; it may undo guests' "
            "requests or change what vmpowerd restores (stop it, or keep it off these CPUs)",
            name);
    }
    return found;
}

}  // namespace vmpower

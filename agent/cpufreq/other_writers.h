#pragma once
// Daemons that also write cpufreq settings and would fight the agent (and
// make "restore what we found" restore their settings, or lose ours).

#include <filesystem>
#include <string>
#include <vector>

namespace vmpower {

// Names of running tuned, power-profiles-daemon, thermald processes, found
// in <proc_root>/<pid>/comm; each name once, sorted.
std::vector<std::string> findOtherCpufreqWriters(const std::filesystem::path& proc_root);

// Logs one spdlog::warn per daemon found; returns what it found.
std::vector<std::string> warnAboutOtherCpufreqWriters(const std::filesystem::path& proc_root);

}  // namespace vmpower

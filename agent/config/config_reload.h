#pragma once
// SIGHUP: re-read the config file. The policy and log_level change at once;
// an invalid file changes nothing (the old policy stays in force); the other
// agent settings are read only at start, so a change to them is reported.

#include <filesystem>
#include <string>
#include <vector>

#include "config.h"

namespace vmpower {

struct ReloadResult {
    bool ok = false;
    std::string error;                        // ConfigError::what() when !ok
    std::vector<std::string> restart_needed;  // agent keys changed but not applied
};

// Reads `file` and applies it to `current` (logs what happened). The caller
// then puts current.rules in force (RulesInForce::replace) and applies
// current.agent.log_level.
ReloadResult reloadConfig(const std::filesystem::path& file, Config& current);

// The apply half, for a Config already parsed.
ReloadResult applyReload(Config& current, Config fresh);

}  // namespace vmpower

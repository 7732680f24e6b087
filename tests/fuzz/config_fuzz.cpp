// libFuzzer target: the policy file parser. Any input must either parse or
// throw ConfigError with a FILE:LINE:COLUMN prefix; nothing else escapes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        vmpower::Config c = vmpower::parseConfig(text, "fuzz.yaml");
        if (!c.rules) std::abort();
        // Matching is what the agent does with a policy: exercise the globs.
        (void)c.rules->match("dpdk-1", "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e");
        for (const auto& rule : c.rules->rules()) {
            if (rule.limits.floor_khz > rule.limits.ceiling_khz) std::abort();
        }
    } catch (const vmpower::ConfigError& e) {
        if (std::string_view(e.what()).rfind("fuzz.yaml:", 0) != 0) std::abort();
    }
    return 0;
}

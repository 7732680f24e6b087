#pragma once
// Domain UUIDs as the policy compares them: canonical, lower case.

#include <optional>
#include <string>
#include <string_view>

namespace vmpower {

// "8-4-4-4-12" hex, or 32 hex digits without dashes (libvirt takes both);
// returns the dashed lower-case form, nullopt when not a UUID.
std::optional<std::string> canonicalUuid(std::string_view text);

}  // namespace vmpower

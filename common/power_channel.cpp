#include "power_channel.h"

namespace vmpower {

std::optional<unsigned> parsePowerChannelIndex(std::string_view digits) {
    if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
    unsigned value = 0;
    for (char ch : digits) {
        if (ch < '0' || ch > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(ch - '0');
        if (value > kMaxPowerChannelIndex) return std::nullopt;  // before it can overflow
    }
    return value;
}

std::string powerChannelName(unsigned index) {
    return std::string(kPowerChannelPrefix) + std::to_string(index);
}

PowerChannelFlaw powerChannelFlaw(const PowerChannelSource& channel, bool path_required) {
    if (channel.target_type != "virtio") return PowerChannelFlaw::TargetNotVirtio;
    if (channel.type != "unix") return PowerChannelFlaw::NotUnix;
    if (channel.source_path.empty()) {
        if (path_required) return PowerChannelFlaw::NoPath;
    } else if (channel.source_path.front() != '/') {
        return PowerChannelFlaw::PathNotAbsolute;
    } else if (channel.source_path.size() > kMaxSocketPathBytes) {
        return PowerChannelFlaw::PathTooLong;
    }
    if (channel.source_mode == "connect") return PowerChannelFlaw::ConnectMode;
    if (channel.source_mode != "bind" && !channel.source_mode.empty()) {
        return PowerChannelFlaw::UnknownMode;
    }
    return PowerChannelFlaw::None;
}

}  // namespace vmpower

#include "channel_statistics.h"

namespace vmpower {

const char* channelStateName(ChannelState s) {
    switch (s) {
        case ChannelState::Connecting:
            return "connecting";
        case ChannelState::Connected:
            return "connected";
        case ChannelState::Refused:
            return "refused";
        case ChannelState::Failed:
            return "failed";
        case ChannelState::Closed:
            return "closed";
        case ChannelState::Disabled:
            return "disabled";
    }
    return "?";
}

}  // namespace vmpower

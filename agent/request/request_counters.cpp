#include "request_counters.h"

namespace vmpower {

std::string_view commandSlotName(std::size_t slot) {
    if (slot < kPowerActionCount) return powerActionName(static_cast<PowerAction>(slot));
    return kindName(static_cast<RequestKind>(slot - kPowerActionCount));
}

}  // namespace vmpower

#pragma once
// The request handler asks "is this pCPU shared with another VM?" and the
// registry answers it, but the registry's channels need the handler first:
// the handler is given this forwarder, pointed at the registry once it is
// built. Until then (and after) nothing is shared.

#include <string_view>

#include "request_handler.h"

namespace vmpower {

class SharingForwarder final : public PcpuSharing {
  public:
    void forwardTo(const PcpuSharing* target) { target_ = target; }
    bool sharedWithOtherDomain(std::string_view uuid, const CpuSet& pcpus) const override {
        return target_ != nullptr && target_->sharedWithOtherDomain(uuid, pcpus);
    }

  private:
    const PcpuSharing* target_ = nullptr;
};

}  // namespace vmpower

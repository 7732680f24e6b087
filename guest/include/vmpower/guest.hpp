#pragma once
// The thin C++ layer over vmpower/guest.h: one RAII owner per channel.

#include <cerrno>
#include <cstdint>
#include <memory>

#include "vmpower/guest.h"

namespace vmpower::guest {

struct ChannelDeleter {
    void operator()(vmpower_channel* ch) const { vmpower_channel_close(ch); }
};
using ChannelPtr = std::unique_ptr<vmpower_channel, ChannelDeleter>;

class Channel {
  public:
    // Opens the port; openStatus() says whether that worked.
    Channel(unsigned port, const vmpower_channel_options& opts) {
        vmpower_channel* raw = nullptr;
        open_status_ = vmpower_channel_open(port, &opts, &raw);
        open_errno_ = open_status_ == VMPOWER_OK ? 0 : errno;
        ch_.reset(raw);
    }

    bool isOpen() const { return ch_ != nullptr; }
    vmpower_status openStatus() const { return open_status_; }
    // errno of the failed open, else of the last failed request.
    int lastErrno() const { return ch_ ? vmpower_channel_errno(ch_.get()) : open_errno_; }
    std::uint64_t discarded() const { return ch_ ? vmpower_channel_discarded(ch_.get()) : 0; }

    vmpower_status cpuPower(std::uint64_t vcpu, vmpower_unit unit) {
        return ch_ ? vmpower_cpu_power(ch_.get(), vcpu, unit) : open_status_;
    }
    vmpower_status queryFreq(std::uint64_t vcpu, bool all, vmpower_freq_list& out) {
        return ch_ ? vmpower_query_freq(ch_.get(), vcpu, all, &out) : open_status_;
    }
    vmpower_status queryCaps(std::uint64_t vcpu, bool all, vmpower_caps_list& out) {
        return ch_ ? vmpower_query_caps(ch_.get(), vcpu, all, &out) : open_status_;
    }

    vmpower_status queryEnergy(vmpower_energy& out) {
        return ch_ ? vmpower_query_energy(ch_.get(), &out) : open_status_;
    }

  private:
    ChannelPtr ch_;
    vmpower_status open_status_ = VMPOWER_OK;
    int open_errno_ = 0;
};

}  // namespace vmpower::guest

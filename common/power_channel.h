#pragma once
// The one definition of a vmpower power channel: a libvirt <channel> whose
// virtio target is named virtio.serial.port.poweragent.N (N: the guest
// lcore), served by QEMU on a unix socket it listens on (mode='bind') and
// connected to by vmpowerd. The domain XML reader, the provision editor, the
// agent's registry and its control commands all ask here.

#include <sys/un.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "cpu_limits.h"
#include "vmpower/protocol.h"

namespace vmpower {

inline constexpr std::string_view kPowerChannelPrefix = VMPOWER_PORT_PREFIX;

// Indexes are guest lcores: 0 .. kMaxPowerChannelIndex.
inline constexpr unsigned kMaxPowerChannelIndex = kMaxVcpus - 1;

// Channels served per domain, as DPDK's host serves at most 64 per VM: a
// domain's XML (outside input) cannot make the agent hold unbounded fds.
inline constexpr std::size_t kMaxPowerChannelsPerDomain = 64;

// sun_path holds the path and its terminating NUL.
inline constexpr std::size_t kMaxSocketPathBytes = sizeof(sockaddr_un::sun_path) - 1;

// The N of "virtio.serial.port.poweragent.N", given the text after the
// prefix, exactly as a DPDK guest spells it ("%u"): decimal digits, no sign,
// no spaces, no leading zeros, at most kMaxPowerChannelIndex.
std::optional<unsigned> parsePowerChannelIndex(std::string_view digits);

// Whether a virtio port name carries the power channel prefix (valid index
// or not: a damaged name is still ours to report or remove).
constexpr bool hasPowerChannelPrefix(std::string_view port_name) {
    return port_name.starts_with(kPowerChannelPrefix);
}

// "virtio.serial.port.poweragent.<index>".
std::string powerChannelName(unsigned index);

// What makes a <channel> with our prefix unusable, in the order they are
// checked (the first one found is the verdict).
enum class PowerChannelFlaw {
    None,
    TargetNotVirtio,  // <target type> is not 'virtio'
    NotUnix,          // <channel type> is not 'unix': vmpowerd connects only to unix sockets
    NoPath,           // no <source path>
    PathNotAbsolute,
    PathTooLong,  // longer than kMaxSocketPathBytes
    ConnectMode,  // <source mode='connect'>: QEMU would dial out to a listener nobody runs
    UnknownMode,  // neither 'bind', 'connect' nor absent
};

// The parts of a <channel> the verdict looks at, as written in the XML ("" when absent).
struct PowerChannelSource {
    std::string_view type;         // <channel type>
    std::string_view target_type;  // <target type>
    std::string_view source_path;  // <source path>
    std::string_view source_mode;  // <source mode>
};

// Whether vmpowerd can serve the channel. `path_required` is false for an
// inactive definition, where libvirt chooses the path when the domain starts.
PowerChannelFlaw powerChannelFlaw(const PowerChannelSource& channel, bool path_required = true);

}  // namespace vmpower

#pragma once
// Adds, checks and removes vmpower's power channels
// (virtio.serial.port.poweragent.N) in a libvirt domain's XML text.
// XML text in, XML text out: nothing here knows about libvirt connections or
// sockets. Everything the editor did not add is written back byte for byte
// (whitespace, comments and order kept); only attribute quoting is normalised.
//
// What vmpower added (channels by name, controllers by index) is recorded in
// the domain's own metadata (<vmpower:provision
// xmlns:vmpower='urn:vmpower:provision:1'>), so the record travels with the
// domain and `remove` never takes out what was there before, even when the
// state directory is lost.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "power_channel.h"  // kMaxSocketPathBytes

namespace vmpower {

inline constexpr unsigned kMaxPowerChannels = 64;
inline constexpr std::string_view kProvisionNamespace = "urn:vmpower:provision:1";

class DomainEditError : public std::runtime_error {
  public:
    enum class Kind {
        Malformed,          // not XML, or not a <domain> we can edit
        TooManyChannels,    // 0 or more than kMaxPowerChannels
        SocketPathTooLong,  // DIR/<domain>.<n> over kMaxSocketPathBytes
        Clash,              // the domain's channels already conflict
    };
    DomainEditError(Kind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    Kind kind() const { return kind_; }

  private:
    Kind kind_;
};

struct ChannelRequest {
    unsigned count = 1;  // channels 0..count-1
    // Directory of the sockets DIR/<domain>.<n>; nullopt lets libvirt choose.
    std::optional<std::filesystem::path> socket_dir;
};

// One element the editor added or removed, as standalone XML text (what
// virDomainAttachDeviceFlags / DetachDeviceFlags take).
struct DeviceChange {
    enum class Type { Controller, Channel } type;
    std::string xml;
};

struct EditSummary {
    std::vector<DeviceChange> devices;    // controllers first, then channels
    std::vector<unsigned> kept_channels;  // wanted channels already present
    // The complete vmpower metadata element after the change, or "" when it
    // was removed; nullopt when the metadata did not change.
    std::optional<std::string> metadata;
    bool changed() const { return !devices.empty() || metadata.has_value(); }
};

struct ChannelCheck {
    std::vector<unsigned> present;     // wanted, and a well-formed power channel
    std::vector<unsigned> missing;     // wanted, absent
    std::vector<unsigned> extra;       // power channels numbered >= the wanted count
    std::vector<std::string> clashes;  // human-readable, one problem each
    bool complete() const { return missing.empty() && clashes.empty(); }
};

// A metadata element as virDomainSetMetadata wants it: libvirt adds the
// namespace itself, so declarations and prefixes are taken out.
std::string withoutNamespace(std::string_view element);

class DomainEditor {
  public:
    // Throws DomainEditError(Malformed) for text that is not a domain.
    explicit DomainEditor(std::string_view xml);
    ~DomainEditor();
    DomainEditor(DomainEditor&&) noexcept;
    DomainEditor& operator=(DomainEditor&&) noexcept;

    std::string name() const;
    // <vcpu> (the maximum, hot-pluggable vCPUs included): a guest lcore may be
    // any of them. 1 when absent, as libvirt assumes.
    unsigned vcpuCount() const;

    // Adds the missing channels 0..count-1 (and controllers when no free port
    // is left). Throws DomainEditError and leaves the document unchanged on
    // bad requests or existing clashes.
    EditSummary addPowerChannels(const ChannelRequest& request);
    // Removes the power channels and controllers vmpower recorded adding
    // (controllers only when nothing else uses them). `all` also takes the
    // power channels someone else added (by hand, or an older tool).
    EditSummary removePowerChannels(bool all = false);
    ChannelCheck check(unsigned wantedCount) const;

    std::string toString() const;

  private:
    struct Document;
    std::unique_ptr<Document> doc_;
};

}  // namespace vmpower

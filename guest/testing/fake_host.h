#pragma once
// Test stand-in for the host end of a power channel: a pty whose slave is
// linked into a temporary port directory as virtio.serial.port.poweragent.N.
// The library opens the link like a real port; the test "host" reads the
// requests from the master and writes replies to it. Closing the master
// makes the port report POLLHUP, as a virtio port with no host does.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vmpower/protocol.h"

namespace vmpower::testing {

using Bytes = std::vector<std::uint8_t>;

class FakeHost {
  public:
    explicit FakeHost(unsigned port = 0);
    ~FakeHost();
    FakeHost(const FakeHost&) = delete;
    FakeHost& operator=(const FakeHost&) = delete;

    const std::string& portDir() const { return dir_; }
    // Reads exactly `size` bytes, or nullopt after timeout_ms.
    std::optional<Bytes> read(std::size_t size, int timeout_ms = 2000);
    void write(const Bytes& bytes);
    void hangUp();  // close the master: "host side not connected"
    // Waits until exactly `size` bytes wait unread on the guest's side.
    bool waitGuestPending(std::size_t size, int timeout_ms = 2000);

  private:
    std::string dir_;
    std::string link_;
    int master_ = -1;
};

// A reply to `request` (a 464-byte record): the request with command set.
Bytes echo(const Bytes& request, std::uint32_t command);
Bytes request(std::uint64_t resource_id, std::uint32_t unit, std::uint32_t command);
Bytes freqList(std::uint64_t resource_id, std::uint32_t unit, std::uint8_t num_vcpu,
               std::uint32_t first_khz);
// Writes `v`'s low `size` bytes at `offset`, little endian.
void putLe(Bytes& b, std::size_t offset, std::uint64_t v, std::size_t size);

// What a vmpower host answers to an energy query.
struct EnergyNumbers {
    std::uint32_t flags = VMPOWER_ENERGY_AVAILABLE;
    std::uint64_t energy_uj = 0;
    std::uint64_t watched_ms = 2500;
    std::vector<std::uint64_t> vcpu_uj;  // num_vcpu is its size
};
// The reply to `request`, as vmpowerd builds it (little endian).
Bytes energyReply(const Bytes& request, const EnergyNumbers& n);

Bytes capsList(std::uint64_t resource_id, std::uint32_t unit, std::uint8_t num_vcpu);

}  // namespace vmpower::testing

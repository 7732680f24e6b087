#pragma once
// Cuts a channel's byte stream into whole fixed-size records: a record split
// over reads, or several in one read, come out whole.

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace vmpower {

class RecordAssembler {
  public:
    explicit RecordAssembler(std::size_t record_size);
    std::size_t recordSize() const { return record_size_; }
    // Calls on_record once per completed record, in order.
    void feed(std::span<const std::byte> bytes,
              const std::function<void(std::span<const std::byte>)>& on_record);
    std::size_t pendingBytes() const { return fill_; }  // of an incomplete record
    void reset() { fill_ = 0; }

  private:
    std::size_t record_size_;
    std::vector<std::byte> partial_;
    std::size_t fill_ = 0;
};

}  // namespace vmpower

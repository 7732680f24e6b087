#include "record_assembler.h"

#include <algorithm>
#include <cstring>

namespace vmpower {

RecordAssembler::RecordAssembler(std::size_t record_size) : record_size_(record_size) {}

void RecordAssembler::feed(std::span<const std::byte> bytes,
                           const std::function<void(std::span<const std::byte>)>& on_record) {
    if (record_size_ == 0) return;
    // Finish the record a previous read left incomplete.
    if (fill_ > 0) {
        std::size_t take = std::min(record_size_ - fill_, bytes.size());
        std::memcpy(partial_.data() + fill_, bytes.data(), take);
        fill_ += take;
        bytes = bytes.subspan(take);
        if (fill_ < record_size_) return;
        fill_ = 0;
        on_record(std::span<const std::byte>(partial_.data(), record_size_));
    }
    // Whole records straight from the read buffer: no copy.
    while (bytes.size() >= record_size_) {
        on_record(bytes.first(record_size_));
        bytes = bytes.subspan(record_size_);
    }
    if (!bytes.empty()) {
        // Allocated on the first split record only: most channels never see
        // one, and thousands of idle channels should not each hold a record.
        if (partial_.empty()) partial_.resize(record_size_);
        std::memcpy(partial_.data(), bytes.data(), bytes.size());
        fill_ = bytes.size();
    }
}

}  // namespace vmpower

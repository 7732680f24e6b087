#pragma once
// Replies waiting to go to a guest that is not reading (DPDK's library never
// reads its ACKs). Bounded in whole records: when full the oldest record not
// yet started is dropped and counted, so the stream never carries half a
// record and the agent never blocks or grows without bound.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vmpower {

class ReplyQueue {
  public:
    explicit ReplyQueue(std::size_t max_records) : max_records_(max_records ? max_records : 1) {}

    void push(std::vector<std::byte> record);
    bool empty() const { return records_.empty(); }
    std::size_t size() const { return records_.size(); }
    std::uint64_t dropped() const { return dropped_; }
    std::uint64_t sent() const { return sent_; }

    // Writes as much as the fd takes without blocking. Returns false on a
    // hard error (errno set); EAGAIN is not an error.
    bool flush(int fd);
    void clear();

  private:
    std::size_t max_records_;
    // A vector, not a deque: libstdc++'s deque allocates ~600 bytes when
    // constructed, which every idle channel would hold. Queues stay short
    // (max_records_), so popping the front by erase is cheap.
    std::vector<std::vector<std::byte>> records_;
    std::size_t head_offset_ = 0;  // bytes of records_.front() already written
    std::uint64_t dropped_ = 0;
    std::uint64_t sent_ = 0;
};

}  // namespace vmpower

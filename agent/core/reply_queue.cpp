#include "reply_queue.h"

#include <sys/socket.h>

#include <cerrno>

namespace vmpower {

void ReplyQueue::push(std::vector<std::byte> record) {
    if (records_.size() >= max_records_) {
        // Keep a partly written head: dropping it would desync the stream.
        auto victim = records_.begin();
        if (head_offset_ > 0) ++victim;
        if (victim != records_.end()) {
            records_.erase(victim);
            ++dropped_;
        } else {
            ++dropped_;
            return;
        }
    }
    records_.push_back(std::move(record));
}

bool ReplyQueue::flush(int fd) {
    while (!records_.empty()) {
        const auto& rec = records_.front();
        ssize_t n = ::send(fd, rec.data() + head_offset_, rec.size() - head_offset_,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        head_offset_ += static_cast<std::size_t>(n);
        if (head_offset_ == rec.size()) {
            records_.erase(records_.begin());
            head_offset_ = 0;
            ++sent_;
        }
    }
    return true;
}

void ReplyQueue::clear() {
    records_.clear();
    head_offset_ = 0;
}

}  // namespace vmpower

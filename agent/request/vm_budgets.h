#pragma once
// A VM's request budget, shared by all its channels: a domain may have up to
// 64 power channels, and a budget per channel would give its guest 64 times
// the rule's rate (and 64 times the log lines).

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "log_throttle.h"
#include "token_bucket.h"

namespace vmpower {

struct VmBudget {
    TokenBucket requests;  // every rated record of the VM: the rule's rate/burst
    TokenBucket policies;  // PKT_POLICY/_REMOVE on top: policy_rate/policy_burst
    LogThrottle refusal_log;
};

// The budgets of the VMs that have channels, by UUID. A channel leases its
// VM's budget once (then keeps the pointer: no lookup per request); the
// budget goes with the VM's last lease, so the book holds only VMs with a
// channel and a restarted domain starts afresh. Outlives every lease.
class VmBudgets {
    struct Entry {
        VmBudget budget;
        std::size_t leases = 0;
    };
    using Book = std::map<std::string, Entry, std::less<>>;

  public:
    class Lease {
      public:
        Lease() = default;
        Lease(Lease&& other) noexcept { *this = std::move(other); }
        Lease& operator=(Lease&& other) noexcept;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { release(); }

        explicit operator bool() const { return book_ != nullptr; }
        VmBudget& operator*() const { return entry_->second.budget; }
        VmBudget* operator->() const { return &entry_->second.budget; }
        const std::string& uuid() const { return entry_->first; }

      private:
        friend class VmBudgets;
        Lease(Book& book, Book::iterator entry) : book_(&book), entry_(entry) {}
        void release() noexcept;

        Book* book_ = nullptr;
        Book::iterator entry_{};
    };

    VmBudgets() = default;
    VmBudgets(const VmBudgets&) = delete;
    VmBudgets& operator=(const VmBudgets&) = delete;

    // The VM's budget, made (full) by its first lease. O(log VMs).
    Lease lease(std::string_view uuid);
    std::size_t size() const { return book_.size(); }

  private:
    Book book_;
};

}  // namespace vmpower

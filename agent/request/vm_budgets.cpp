#include "vm_budgets.h"

#include <utility>

namespace vmpower {

VmBudgets::Lease& VmBudgets::Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        book_ = std::exchange(other.book_, nullptr);
        entry_ = other.entry_;
    }
    return *this;
}

void VmBudgets::Lease::release() noexcept {
    if (book_ == nullptr) return;
    if (--entry_->second.leases == 0) book_->erase(entry_);
    book_ = nullptr;
}

VmBudgets::Lease VmBudgets::lease(std::string_view uuid) {
    auto it = book_.find(uuid);
    if (it == book_.end()) it = book_.emplace(std::string(uuid), Entry{}).first;
    ++it->second.leases;
    return Lease(book_, it);
}

}  // namespace vmpower

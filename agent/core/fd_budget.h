#pragma once
// How many channel sockets the agent may hold at once. Channels are the only
// fds whose number outsiders choose (a domain's XML); without a budget they
// could take every fd the process may open, and the control socket, libvirt's
// connection and the journal would fail with EMFILE. The budget keeps a
// reserve for those; a channel over budget waits (retry with backoff) like
// one whose QEMU is not listening yet.

#include <cstddef>
#include <utility>

namespace vmpower {

class FdBudget {
  public:
    // What the process may not give to channels: the loop, libvirt, the
    // control socket and its clients, the journal, logs.
    // Among them the cpufreq files kept open for writing (at most
    // Sysfs::kMaxKeptOpen, checked in agent.cpp).
    static constexpr std::size_t kSysfsKeptOpen = 16;
    // And the copies of channel sockets waiting to go to systemd's fd store
    // while the service manager is behind (NotifySocket in agent/daemon).
    // Sockets a previous run kept there come back as channels' fds and
    // take tickets like any other.
    static constexpr std::size_t kNotifyQueued = 16;
    static constexpr std::size_t kReserve = 48;
    static_assert(kSysfsKeptOpen + kNotifyQueued < kReserve,
                  "the loop, libvirt and the control socket keep a share of the reserve");

    // The channels' share of an open-file limit (the one in force after
    // raiseFdLimit()).
    static std::size_t channelsFor(std::size_t open_file_limit) {
        return open_file_limit > 2 * kReserve ? open_file_limit - kReserve : open_file_limit / 2;
    }
    explicit FdBudget(std::size_t channels) : limit_(channels) {}

    // One fd's worth of the budget; given back when destroyed.
    class Ticket {
      public:
        Ticket() = default;
        Ticket(Ticket&& o) noexcept : budget_(std::exchange(o.budget_, nullptr)) {}
        Ticket& operator=(Ticket&& o) noexcept {
            if (this != &o) {
                reset();
                budget_ = std::exchange(o.budget_, nullptr);
            }
            return *this;
        }
        Ticket(const Ticket&) = delete;
        Ticket& operator=(const Ticket&) = delete;
        ~Ticket() { reset(); }
        explicit operator bool() const { return budget_ != nullptr; }
        void reset() {
            if (budget_ != nullptr) std::exchange(budget_, nullptr)->giveBack();
        }

        // Only FdBudget::take() makes a non-empty one (the count is taken there).
        explicit Ticket(FdBudget* counted) : budget_(counted) {}

      private:
        FdBudget* budget_ = nullptr;
    };

    // An empty ticket when the budget is spent.
    Ticket take() {
        if (used_ >= limit_) return {};
        ++used_;
        return Ticket(this);
    }
    void giveBack() { --used_; }  // by Ticket only
    std::size_t used() const { return used_; }
    std::size_t limit() const { return limit_; }
    void setLimit(std::size_t channels) { limit_ = channels; }

  private:
    std::size_t limit_;
    std::size_t used_ = 0;
};

}  // namespace vmpower

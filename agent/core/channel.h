#pragma once
// One power channel: the host end of a guest's virtio-serial port. QEMU
// serves the socket; we connect as soon as the domain runs (a DPDK guest's
// rte_power_init fails unless someone is connected), retry with backoff until
// it works or the domain stops, reassemble records, answer through a
// bounded reply queue.

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "access_rules.h"
#include "agent_view.h"
#include "channel_keeper.h"
#include "channel_statistics.h"
#include "domain_xml.h"
#include "event_loop.h"
#include "fd_budget.h"
#include "peer_verifier.h"
#include "record_assembler.h"
#include "reply_queue.h"
#include "request_handler.h"
#include "retry_scheduler.h"
#include "unique_fd.h"

namespace vmpower {

// What all channels share.
struct ChannelEnv {
    RetryScheduler& retries;
    RequestHandler& handler;
    const PeerVerifier& peers;
    std::size_t reply_queue_records = 64;
    FdBudget* fds = nullptr;  // the agent's channel fd budget; null: unbounded (tests)
    // Counts the sockets the peer check refused, across every channel the
    // agent ever had (a channel goes with its domain); null: not counted.
    std::uint64_t* peer_check_refusals = nullptr;
    // Keeps connected sockets across a restart of the agent (systemd's fd
    // store); null: a channel's socket goes with the process.
    ChannelKeeper* keeper = nullptr;
};

class Channel final : public EpollClient {
  public:
    using State = ChannelState;

    Channel(ChannelEnv& env, const GuestIdentity& guest, PowerChannel desc, RecordFormat format);
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
    ~Channel();

    void open();   // connect now (and keep trying)
    void close();  // the domain stopped
    // The operator's switch (set-channel-status): a disabled channel is
    // closed and open() does nothing until it is enabled again.
    void setEnabled(bool enabled);
    bool enabled() const { return enabled_; }

    State state() const { return state_; }
    const PowerChannel& description() const { return desc_; }
    void setRecordFormat(RecordFormat format);

    using Stats = ChannelStats;
    Stats stats() const;
    ChannelView view() const;  // a snapshot for the control room

  private:
    void tryConnect();
    // A new socket connected to the channel's path, its place in the budget
    // taken; empty after scheduling a retry (or failing for good).
    UniqueFd connectSocket(FdBudget::Ticket& ticket);
    // The socket the previous run kept for this channel, when it still is
    // what connectSocket() would give; empty otherwise.
    KeptSocket adoptKept();
    // The peer check passed: the socket joins the loop.
    void connected(UniqueFd fd, FdBudget::Ticket ticket, bool adopted);
    void retryLater();
    // The socket, its epoll entry, queued replies and a partial record go
    // (the latter counted); close() and disconnect() both start here.
    void dropConnection();
    void disconnect(const std::string& why, bool retry);
    void onEpollEvents(std::uint32_t events) override;
    void onReadable();
    void flushReplies();
    void updateInterest();
    void noteError(const std::string& msg);  // logs when the error changes

    ChannelEnv& env_;
    const GuestIdentity& guest_;
    PowerChannel desc_;
    RecordAssembler assembler_;
    ChannelRequestStatePtr request_state_;
    ReplyQueue replies_;

    State state_ = State::Closed;
    UniqueFd fd_;
    FdBudget::Ticket fd_ticket_;   // fd_'s place in the agent's budget
    EventLoop::Registration reg_;  // declared after fd_: goes before it closes
    RetryScheduler::Call retry_;
    std::chrono::milliseconds backoff_{50};
    std::minstd_rand jitter_rng_;
    std::uint32_t interest_ = 0;
    Stats stats_;
    bool enabled_ = true;
};

}  // namespace vmpower

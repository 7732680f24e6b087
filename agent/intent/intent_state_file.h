#pragma once
// The intent store's file, <state_dir>/intents.json (intent_file.h has the
// format): read once at start (with the older host-policies.json folded in
// once and renamed aside, so an upgrade loses nothing), written after each
// change, coalesced — at most one local file write per kIntentFileInterval,
// always of the latest (rendered when the write runs), none when the text
// is unchanged — through replaceStateFile (atomic, 0600, a link or FIFO at
// the name refused). A file that is not this agent's (corrupt, foreign, a
// link) is reported, renamed aside (never overwritten) and ignored.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "intent_carrier.h"
#include "intent_file.h"
#include "retry_scheduler.h"

namespace vmpower {

// A local file write, small: a quarter of a second keeps a guest stepping
// thousands of times a second at four writes a second, and a change is on
// disk before a restart a quarter of a second later at most (a stop writes
// what is pending).
inline constexpr std::chrono::milliseconds kIntentFileInterval{250};

class IntentStateFile final : public IntentCarrier {
  public:
    using Render = std::function<StoredIntents()>;  // every entry the file should hold now

    // `boot_id`: this boot's (a file of an earlier boot restores nothing).
    IntentStateFile(std::filesystem::path state_dir, std::string boot_id, RetryScheduler& retries,
                    Render render, std::chrono::milliseconds interval = kIntentFileInterval);
    ~IntentStateFile();  // a pending write is done now: a restart restores it
    IntentStateFile(const IntentStateFile&) = delete;
    IntentStateFile& operator=(const IntentStateFile&) = delete;

    // What the last run kept, once, at start: this boot's entries of
    // intents.json, and the older host-policies.json's (then renamed
    // aside) where the new file has none for the domain.
    StoredIntents load();
    // What load() found cannot say what every domain held: intents.json was
    // set aside, or this is the first start with it after the older
    // host-policies.json (an upgrade). The domains' live metadata may.
    bool storeLost() const { return lost_; }
    void changed(std::string_view uuid) override;
    void forget(std::string_view uuid) override { changed(uuid); }
    // The agent stops: what is pending is written now, and nothing after
    // (the domains it lets go of keep their entries for the next start).
    void keepAsIs();

    const std::filesystem::path& file() const { return file_; }
    std::uint64_t writes() const { return writes_; }

  private:
    std::optional<IntentFile> readIntentFile();
    void readLegacy(StoredIntents& into);
    void setAside(const std::filesystem::path& file, const std::string& why);
    void write() noexcept;

    std::filesystem::path file_;
    std::filesystem::path legacy_;  // host-policies.json
    std::string boot_id_;
    RetryScheduler& retries_;
    Render render_;
    std::chrono::milliseconds interval_;
    std::string written_;  // the file's text as last written (or read)
    RetryScheduler::Call pending_;
    std::optional<Clock::TimePoint> last_write_;
    std::uint64_t writes_ = 0;
    bool frozen_ = false;
    bool lost_ = false;
};

}  // namespace vmpower

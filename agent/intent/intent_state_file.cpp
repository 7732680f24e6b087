#include "intent_state_file.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <vector>

#include "atomic_file.h"
#include "log.h"

namespace vmpower {

IntentStateFile::IntentStateFile(std::filesystem::path state_dir, std::string boot_id,
                                 RetryScheduler& retries, Render render,
                                 std::chrono::milliseconds interval)
    : file_(state_dir / "intents.json"),
      legacy_(state_dir / "host-policies.json"),
      boot_id_(std::move(boot_id)),
      retries_(retries),
      render_(std::move(render)),
      interval_(interval) {}

IntentStateFile::~IntentStateFile() {
    keepAsIs();
}

void IntentStateFile::keepAsIs() {
    if (pending_.pending()) {
        pending_.reset();
        write();
    }
    frozen_ = true;
}

void IntentStateFile::setAside(const std::filesystem::path& file, const std::string& why) {
    // Never over an earlier one: the name takes the time, then a number.
    const std::string base = file.string() + ".corrupt-" + std::to_string(std::time(nullptr));
    std::filesystem::path aside = base;
    for (int n = 1;
         std::filesystem::symlink_status(aside).type() != std::filesystem::file_type::not_found;
         ++n)
        aside = base + "." + std::to_string(n);
    lost_ = true;
    std::error_code ec;
    std::filesystem::rename(file, aside, ec);
    if (ec) {
        LOG(Agent).warn("{}: {}; not used, and it cannot be set aside: {}", file.string(), why,
                        ec.message());
    } else {
        LOG(Agent).warn("{}: {}; not used, set aside as {}", file.string(), why, aside.string());
    }
}

std::optional<IntentFile> IntentStateFile::readIntentFile() {
    std::optional<std::string> text;
    try {
        text = readStateFile(file_);
    } catch (const std::exception& e) {
        setAside(file_, std::string("not read: ") + e.what());
        return std::nullopt;
    }
    if (!text) return std::nullopt;
    std::vector<std::string> problems;
    std::optional<IntentFile> read = parseIntentFile(*text, problems);
    if (!read) {
        setAside(file_, problems.front());
        return std::nullopt;
    }
    for (const auto& p : problems) LOG(Agent).warn("{}: {}", file_.string(), p);
    written_ = *text;
    return read;
}

void IntentStateFile::readLegacy(StoredIntents& into) {
    std::optional<std::string> text;
    std::vector<std::string> problems;
    try {
        text = readStateFile(legacy_);
    } catch (const std::exception& e) {
        problems.push_back(std::string("not read: ") + e.what());
    }
    if (!text && problems.empty()) return;  // none: nothing to fold in
    lost_ = true;                           // it kept host policies only
    if (text) {
        if (auto kept = parseLegacyHostPolicies(*text, problems)) {
            for (auto& [uuid, entry] : *kept) into.try_emplace(uuid, std::move(entry));
            LOG(Agent).info("{}: {} host policies carried into {}", legacy_.string(), kept->size(),
                            file_.string());
        }
    }
    for (const auto& p : problems) LOG(Agent).warn("{}: {}", legacy_.string(), p);
    // What it held is in the new store now (written below, before the
    // rename): one store from here on.
    try {
        std::string carried = intentFileText(IntentFile{boot_id_, into});
        std::filesystem::create_directories(file_.parent_path());
        replaceStateFile(file_, carried, 0600);
        written_ = std::move(carried);
        ++writes_;
    } catch (const std::exception& e) {
        LOG(Agent).warn("{}: host policies not carried over: {}; {} kept as it is", file_.string(),
                        e.what(), legacy_.string());
        return;
    }
    std::error_code ec;
    std::filesystem::rename(legacy_, legacy_.string() + ".migrated", ec);
    if (ec) LOG(Agent).warn("{}: cannot rename it aside: {}", legacy_.string(), ec.message());
}

StoredIntents IntentStateFile::load() {
    StoredIntents kept;
    if (std::optional<IntentFile> read = readIntentFile()) {
        if (read->boot_id == boot_id_) {
            kept = std::move(read->domains);
        } else if (!read->domains.empty()) {
            LOG(Agent).info("{}: from an earlier boot: its {} intents restore nothing",
                            file_.string(), read->domains.size());
        }
    }
    readLegacy(kept);
    return kept;
}

void IntentStateFile::changed(std::string_view) {
    if (frozen_ || pending_.pending()) return;
    std::chrono::milliseconds delay{0};
    if (last_write_) {
        auto since = std::chrono::duration_cast<std::chrono::milliseconds>(retries_.clock().now() -
                                                                           *last_write_);
        delay = std::max(interval_ - since, std::chrono::milliseconds(0));
    }
    pending_ = retries_.schedule(delay, [this] { write(); });
}

void IntentStateFile::write() noexcept {
    if (frozen_) return;
    try {
        last_write_ = retries_.clock().now();
        std::string text = intentFileText(IntentFile{boot_id_, render_()});
        if (text == written_) return;
        std::filesystem::create_directories(file_.parent_path());
        replaceStateFile(file_, text, 0600);
        written_ = std::move(text);
        ++writes_;
    } catch (const std::exception& e) {
        // Tried again at the next change.
        LOG(Agent).warn("{}: intents not kept: {}", file_.string(), e.what());
    }
}

}  // namespace vmpower

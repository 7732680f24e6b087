#include "restore_journal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "atomic_file.h"
#include "cpufreq_error.h"
#include "log.h"
#include "min_max_backend.h"
#include "sysfs.h"
#include "system_error.h"
#include "unique_fd.h"

namespace vmpower {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kHeaderV1 = "vmpower-cpufreq-journal 1";
constexpr std::string_view kHeaderV2 = "vmpower-cpufreq-journal 2 boot=";

std::string toHex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) {
        auto b = static_cast<unsigned char>(c);
        out += kDigits[b >> 4];
        out += kDigits[b & 0xf];
    }
    return out;
}

std::optional<std::string> fromHex(std::string_view hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    if (hex.size() % 2 != 0) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
    }
    return out;
}

// Our own file, but still outside input at start-up: never let it name a
// path that leaves the sysfs root.
bool safeRelative(const std::string& file) {
    const fs::path p(file);
    if (p.empty() || p.is_absolute()) return false;
    return std::none_of(p.begin(), p.end(), [](const fs::path& part) { return part == ".."; });
}

struct ParsedJournal {
    std::string boot_id;  // "" in version 1 files
    std::vector<JournalEntry> entries;
};

std::optional<ParsedJournal> parse(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    ParsedJournal out;
    if (line.starts_with(kHeaderV2)) {
        out.boot_id = line.substr(kHeaderV2.size());
        if (out.boot_id.empty()) return std::nullopt;
    } else if (line != kHeaderV1) {
        return std::nullopt;
    }
    std::vector<JournalEntry>& entries = out.entries;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::size_t t1 = line.find('\t');
        std::size_t t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
        if (t2 == std::string::npos) return std::nullopt;
        JournalEntry e{line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), {}};
        auto bytes = fromHex(std::string_view(line).substr(t2 + 1));
        if (!bytes || e.group.empty() || !safeRelative(e.file)) return std::nullopt;
        e.original = std::move(*bytes);
        entries.push_back(std::move(e));
    }
    return out;
}

void fsyncDir(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) {
        throw CpufreqError(
            fmt::format("{}: cannot sync directory: {}", dir.string(), std::strerror(errno)));
    }
}

std::string baseName(const std::string& file) {
    return fs::path(file).filename().string();
}
std::string dirName(const std::string& file) {
    return fs::path(file).parent_path().string();
}

bool restoreOne(const Sysfs& sysfs, const JournalEntry& e, bool best_effort) {
    try {
        if (sysfs.exists(e.file) && sysfs.readRaw(e.file) == e.original) return true;
        sysfs.write(e.file, e.original);
        return true;
    } catch (const SystemError& err) {  // the file could not be read or written
        if (best_effort) {
            LOG(Cpufreq).debug("cpufreq restore: {} (expected unless the governor was userspace)",
                               err.what());
            return true;
        }
        LOG(Cpufreq).error("cpufreq restore: {}", err.what());
        return false;
    }
}

}  // namespace

bool restoreEntries(const Sysfs& sysfs, const std::vector<JournalEntry>& entries) {
    auto rank = [](const JournalEntry& e) {
        const std::string b = baseName(e.file);
        if (b == "scaling_setspeed") return 0;
        if (b == "scaling_governor") return 1;
        if (b == "scaling_min_freq" || b == "scaling_max_freq") return 2;
        return 3;
    };
    std::vector<const JournalEntry*> ordered;
    for (const auto& e : entries) ordered.push_back(&e);
    std::stable_sort(
        ordered.begin(), ordered.end(),
        [&](const JournalEntry* a, const JournalEntry* b) { return rank(*a) < rank(*b); });

    bool ok = true;
    std::vector<std::string> pairs_done;  // directories whose min/max went back together
    for (const JournalEntry* e : ordered) {
        const int r = rank(*e);
        if (r != 2) {
            ok = restoreOne(sysfs, *e, r == 0) && ok;
            continue;
        }
        const std::string dir = dirName(e->file);
        if (std::find(pairs_done.begin(), pairs_done.end(), dir) != pairs_done.end()) continue;
        const std::string other_name =
            baseName(e->file) == "scaling_min_freq" ? "scaling_max_freq" : "scaling_min_freq";
        auto other = std::find_if(entries.begin(), entries.end(), [&](const JournalEntry& o) {
            return dirName(o.file) == dir && baseName(o.file) == other_name;
        });
        if (other == entries.end()) {
            ok = restoreOne(sysfs, *e, false) && ok;
            continue;
        }
        pairs_done.push_back(dir);
        const JournalEntry& min = other_name == "scaling_max_freq" ? *e : *other;
        const JournalEntry& max = other_name == "scaling_max_freq" ? *other : *e;
        try {
            if (sysfs.readRaw(min.file) != min.original ||
                sysfs.readRaw(max.file) != max.original) {
                writeMinMaxSafely(sysfs, min.file, max.file, min.original, max.original);
            }
        } catch (const SystemError& err) {
            LOG(Cpufreq).error("cpufreq restore: {}", err.what());
            ok = false;
        } catch (const CpufreqError& err) {  // writeMinMaxSafely refused
            LOG(Cpufreq).error("cpufreq restore: {}", err.what());
            ok = false;
        }
    }
    return ok;
}

std::string currentBootId(const fs::path& proc_root) {
    std::ifstream in(proc_root / "sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    // A UUID: anything else (or a missing file) is "unknown".
    bool ok = id.size() == 36 && std::all_of(id.begin(), id.end(), [](char c) {
                  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
              });
    return ok ? id : std::string();
}

RestoreJournal::RestoreJournal(const Sysfs& sysfs, fs::path file, std::string boot_id)
    : sysfs_(sysfs), file_(std::move(file)), boot_id_(std::move(boot_id)) {
    std::error_code ec;
    std::optional<std::string> text;
    std::string why;
    try {
        text = readStateFile(file_);
        if (!text) return;
    } catch (const std::exception& e) {
        why = std::string(": ") + e.what();  // a link or FIFO there: moved aside, never followed
    }
    auto parsed = text ? parse(*text) : std::nullopt;
    if (!parsed) {
        const fs::path aside = file_.string() + ".corrupt";
        fs::rename(file_, aside, ec);
        LOG(Cpufreq).error(
            "cpufreq: journal {} cannot be read{}; moved to {}; cpufreq state of the earlier run "
            "was not restored",
            file_.string(), why, aside.string());
        return;
    }
    if (!parsed->boot_id.empty() && !boot_id_.empty() && parsed->boot_id != boot_id_) {
        const fs::path aside = file_.string() + ".boot-" + parsed->boot_id;
        fs::rename(file_, aside, ec);
        LOG(Cpufreq).warn(
            "cpufreq: journal {} is from an earlier boot ({}): the reboot reset those CPUs, and "
            "restoring it would overwrite this boot's settings; archived as {}, not restored",
            file_.string(), parsed->boot_id, aside.string());
        return;
    }
    entries_ = std::move(parsed->entries);
}

bool RestoreJournal::has(const std::string& group) const {
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](const JournalEntry& e) { return e.group == group; });
}

void RestoreJournal::record(const std::string& group, const std::vector<std::string>& files) {
    if (has(group)) return;
    std::vector<JournalEntry> added;
    for (const auto& f : files) {
        if (sysfs_.exists(f)) added.push_back({group, f, sysfs_.readRaw(f)});
    }
    entries_.insert(entries_.end(), added.begin(), added.end());
    try {
        persist();
    } catch (...) {
        entries_.resize(entries_.size() - added.size());
        throw;
    }
}

bool RestoreJournal::restore(const std::string& group) {
    std::vector<JournalEntry> mine;
    std::vector<JournalEntry> rest;
    for (auto& e : entries_) (e.group == group ? mine : rest).push_back(std::move(e));
    entries_ = std::move(rest);
    const bool ok = restoreEntries(sysfs_, mine);
    if (!ok) {
        // Keep the originals for the next attempt (next release, exit, or
        // the next start): forgetting them would make the next run journal
        // this half-restored state as "original".
        LOG(Cpufreq).warn(
            "cpufreq: {} not fully restored; kept in the journal for the next attempt", group);
        entries_.insert(entries_.end(), mine.begin(), mine.end());
    }
    try {
        persist();
    } catch (const CpufreqError& err) {
        LOG(Cpufreq).error("cpufreq: {}", err.what());
    }
    return ok;
}

bool RestoreJournal::restoreAll() {
    std::vector<std::string> groups;
    for (const auto& e : entries_) {
        if (std::find(groups.begin(), groups.end(), e.group) == groups.end())
            groups.push_back(e.group);
    }
    bool ok = true;
    for (const auto& g : groups) ok = restore(g) && ok;
    return ok;
}

void RestoreJournal::persist() const {
    std::error_code ec;
    if (entries_.empty()) {
        if (fs::remove(file_, ec)) fsyncDir(file_.parent_path());
        if (ec)
            throw CpufreqError(fmt::format("{}: cannot remove: {}", file_.string(), ec.message()));
        return;
    }
    // A journal written without a boot id stays readable by every boot
    // (version 1): "unknown" must not look like a mismatch.
    std::string text =
        boot_id_.empty() ? std::string(kHeaderV1) + "\n" : std::string(kHeaderV2) + boot_id_ + "\n";
    for (const auto& e : entries_)
        text += fmt::format("{}\t{}\t{}\n", e.group, e.file, toHex(e.original));

    try {
        replaceStateFile(file_, text, 0600);
    } catch (const std::runtime_error& e) {  // the system's refusal, or a link planted there
        throw CpufreqError(e.what());
    }
    fsyncDir(file_.parent_path());
}

std::size_t RestoreJournal::recoverCrashed(const Sysfs& sysfs, const fs::path& file,
                                           const std::string& boot_id) {
    RestoreJournal journal(sysfs, file, boot_id);
    const std::size_t n = journal.entries_.size();
    if (n == 0) return 0;
    LOG(Cpufreq).warn("cpufreq: a previous run did not exit cleanly; restoring {} files from {}", n,
                      file.string());
    if (!journal.restoreAll())
        LOG(Cpufreq).error(
            "cpufreq: some files of the earlier run could not be restored; kept in {}",
            file.string());
    return n;
}

}  // namespace vmpower

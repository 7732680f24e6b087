#pragma once
// Do no harm: the bytes of every cpufreq file as they were before vmpowerd
// first wrote it, kept in a file in the state directory so that a crashed
// run's changes are undone at the next start.
//
// Entries are grouped: a policy ("policy2") or a turbo knob (its file).
// The file is rewritten atomically (temp + fsync + rename + fsync of the
// directory) before the write it protects; it is removed when empty.
//
// Format, one entry a line: "<group>\t<file>\t<hex of original bytes>"
// after a "vmpower-cpufreq-journal 2 boot=<boot id>" header (hex: sysfs
// bytes need no escaping rules). The boot id is the kernel's
// (/proc/sys/kernel/random/boot_id): a journal from an earlier boot
// describes CPUs the reboot has reset, and restoring it would overwrite
// this boot's tuning. Version 1 files (no boot id) are still read.

#include <filesystem>
#include <string>
#include <vector>

namespace vmpower {

class Sysfs;

struct JournalEntry {
    std::string group;
    std::string file;      // relative to the sysfs root
    std::string original;  // exact bytes
};

class RestoreJournal {
  public:
    // Loads what an earlier run left in `file` (entries whose restore
    // failed, or a crashed run's), so originals are never journaled twice.
    // A file from another boot is archived as "<file>.boot-<its id>", an
    // unreadable one as "<file>.corrupt" (both logged), and not loaded.
    // `boot_id` "" (unknown) matches any file.
    RestoreJournal(const Sysfs& sysfs, std::filesystem::path file, std::string boot_id = {});

    // Records the current bytes of `files` (missing ones skipped) under
    // `group` unless the group is already recorded, then persists.
    // Throws CpufreqError when the journal cannot be written: the caller
    // must not write sysfs then.
    void record(const std::string& group, const std::vector<std::string>& files);
    bool has(const std::string& group) const;

    // Writes the group's original bytes back (see restoreEntries) and
    // forgets it. Returns false if some file could not be restored: the
    // group is then kept (in memory and on disk) for the next attempt, so
    // its originals are never lost or replaced by a modified state.
    bool restore(const std::string& group);
    bool restoreAll();

    const std::vector<JournalEntry>& entries() const { return entries_; }
    const std::filesystem::path& file() const { return file_; }

    // A journal left by a run that did not exit cleanly: restores it and
    // deletes it (what cannot be restored stays in it). Returns the number
    // of entries found. Another boot's or an unreadable journal is set
    // aside, as the constructor does.
    static std::size_t recoverCrashed(const Sysfs& sysfs, const std::filesystem::path& file,
                                      const std::string& boot_id = {});

  private:
    void persist() const;

    const Sysfs& sysfs_;
    std::filesystem::path file_;
    std::string boot_id_;
    std::vector<JournalEntry> entries_;
};

// Writes entries' original bytes back where they differ from the current
// bytes, in the order the kernel needs: scaling_setspeed (best effort; the
// kernel refuses it unless the governor is userspace), scaling_governor,
// scaling_min_freq/scaling_max_freq (an order keeping min <= max), then the
// rest. Returns false if some file could not be restored (logged).
bool restoreEntries(const Sysfs& sysfs, const std::vector<JournalEntry>& entries);

// The kernel's id of this boot (<proc_root>/sys/kernel/random/boot_id), ""
// when it cannot be read.
std::string currentBootId(const std::filesystem::path& proc_root);

}  // namespace vmpower

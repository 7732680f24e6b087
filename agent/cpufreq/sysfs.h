#pragma once
// Reads and writes files under a sysfs root ("/sys", or a fixture copy in
// tests). Paths are relative to the root, e.g.
// "devices/system/cpu/cpufreq/policy0/scaling_max_freq". Every failure
// throws SystemError naming the file and the reason (CpufreqError for a
// value that does not parse).

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "string_map.h"
#include "unique_fd.h"

namespace vmpower {

class Sysfs {
  public:
    // Sees every successful write, in order (tests check write order).
    using WriteObserver = std::function<void(const std::string& file, std::string_view value)>;

    explicit Sysfs(std::filesystem::path root);

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path path(std::string_view file) const { return root_ / file; }
    bool exists(std::string_view file) const;

    std::string readRaw(std::string_view file) const;  // exact bytes
    std::string read(std::string_view file) const;     // whitespace trimmed
    std::optional<std::string> tryRead(std::string_view file) const;
    std::uint32_t readKhz(std::string_view file) const;
    std::vector<std::uint32_t> readKhzList(std::string_view file) const;  // ascending

    // One write of `value` to an existing file (sysfs attributes take a
    // value in a single write; a missing file is an error, never created).
    // The file stays open for the next write to it, which is one pwrite(2)
    // at offset 0: the request path opens and closes nothing. A kept file is
    // opened again (O_NOFOLLOW, like the first time) when a write to it
    // fails — a removed sysfs attribute answers ENODEV — and, on trees that
    // are not sysfs (test fixtures, plain files), when it was removed or
    // replaced since; there the file is also cut to the value's length.
    void write(std::string_view file, std::string_view value) const;
    // Files kept open for writing (tests).
    std::size_t keptOpen() const { return kept_.size(); }
    // At most this many files are kept open (the files of the first
    // policies written: a governor and a setspeed, or min and max, each); a
    // file written after that is opened and closed per write, as before.
    // They come out of the agent's fd reserve (agent/core/fd_budget.h).
    static constexpr std::size_t kMaxKeptOpen = 16;

    void setWriteObserver(WriteObserver observer) { observer_ = std::move(observer); }

  private:
    struct KeptFile {
        UniqueFd fd;
        bool plain = false;  // not on sysfs: check for replacement, truncate
    };
    KeptFile& keep(std::string_view file) const;  // opened now if not kept
    void reopen(std::string_view file, KeptFile& kept) const;

    std::filesystem::path root_;
    WriteObserver observer_;
    // By path relative to the root; a handful per cpufreq policy.
    mutable StringMap<KeptFile> kept_;
};

// A frequency as sysfs takes it ("2400000\n"), formatted on the stack.
class KhzText {
  public:
    explicit KhzText(std::uint32_t khz);
    std::string_view view() const { return {buf_.data(), len_}; }
    operator std::string_view() const { return view(); }

  private:
    std::array<char, 16> buf_;
    std::size_t len_ = 0;
};

std::string_view trimSysfs(std::string_view text);
// A number in kHz; nullopt unless the whole (trimmed) text is one.
std::optional<std::uint32_t> parseKhz(std::string_view text);
// Whitespace-separated kHz values, sorted ascending, duplicates removed;
// nullopt on any token that is not a number.
std::optional<std::vector<std::uint32_t>> parseKhzList(std::string_view text);

}  // namespace vmpower

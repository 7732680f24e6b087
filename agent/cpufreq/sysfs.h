#pragma once
// Reads and writes files under a sysfs root ("/sys", or a fixture copy in
// tests). Paths are relative to the root, e.g.
// "devices/system/cpu/cpufreq/policy0/scaling_max_freq". Every failure
// throws CpufreqError naming the file and the reason.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

    // One write(2) of `value` to an existing file (sysfs attributes take a
    // value in a single write; a missing file is an error, never created).
    void write(std::string_view file, std::string_view value) const;

    void setWriteObserver(WriteObserver observer) { observer_ = std::move(observer); }

  private:
    std::filesystem::path root_;
    WriteObserver observer_;
};

std::string_view trimSysfs(std::string_view text);
// A number in kHz; nullopt unless the whole (trimmed) text is one.
std::optional<std::uint32_t> parseKhz(std::string_view text);
// Whitespace-separated kHz values, sorted ascending, duplicates removed;
// nullopt on any token that is not a number.
std::optional<std::vector<std::uint32_t>> parseKhzList(std::string_view text);

}  // namespace vmpower

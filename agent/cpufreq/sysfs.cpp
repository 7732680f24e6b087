#include "sysfs.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "cpufreq_error.h"
#include "unique_fd.h"

namespace vmpower {

namespace {

[[noreturn]] void fail(const std::filesystem::path& p, std::string_view what, int err) {
    throw CpufreqError(fmt::format("{}: {}: {}", p.string(), what, std::strerror(err)));
}

bool isSpace(char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

}  // namespace

std::string_view trimSysfs(std::string_view text) {
    while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
    while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
    return text;
}

std::optional<std::uint32_t> parseKhz(std::string_view text) {
    text = trimSysfs(text);
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::optional<std::vector<std::uint32_t>> parseKhzList(std::string_view text) {
    std::vector<std::uint32_t> out;
    text = trimSysfs(text);
    while (!text.empty()) {
        std::size_t end = 0;
        while (end < text.size() && !isSpace(text[end])) ++end;
        auto v = parseKhz(text.substr(0, end));
        if (!v) return std::nullopt;
        out.push_back(*v);
        text = trimSysfs(text.substr(end));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Sysfs::Sysfs(std::filesystem::path root) : root_(std::move(root)) {}

bool Sysfs::exists(std::string_view file) const {
    std::error_code ec;
    return std::filesystem::exists(path(file), ec);
}

std::string Sysfs::readRaw(std::string_view file) const {
    const auto p = path(file);
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) fail(p, "cannot open for reading", errno);
    std::string out;
    char buf[4096];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(p, "cannot read", errno);
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::string Sysfs::read(std::string_view file) const {
    return std::string(trimSysfs(readRaw(file)));
}

std::optional<std::string> Sysfs::tryRead(std::string_view file) const {
    if (!exists(file)) return std::nullopt;
    try {
        return read(file);
    } catch (const CpufreqError&) {
        return std::nullopt;
    }
}

std::uint32_t Sysfs::readKhz(std::string_view file) const {
    const std::string text = read(file);
    auto v = parseKhz(text);
    if (!v)
        throw CpufreqError(
            fmt::format("{}: not a frequency in kHz: '{}'", path(file).string(), text));
    return *v;
}

std::vector<std::uint32_t> Sysfs::readKhzList(std::string_view file) const {
    const std::string text = read(file);
    auto v = parseKhzList(text);
    if (!v)
        throw CpufreqError(
            fmt::format("{}: not a list of kHz values: '{}'", path(file).string(), text));
    return *v;
}

void Sysfs::write(std::string_view file, std::string_view value) const {
    const auto p = path(file);
    // O_TRUNC matters only for fixture trees (plain files); sysfs ignores it.
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) fail(p, "cannot open for writing", errno);
    ssize_t n;
    do {
        n = ::write(fd.get(), value.data(), value.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) fail(p, fmt::format("cannot write '{}'", trimSysfs(value)), errno);
    if (static_cast<std::size_t>(n) != value.size()) fail(p, "short write", EIO);
    if (observer_) observer_(std::string(file), value);
}

}  // namespace vmpower

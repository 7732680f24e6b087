#include "sysfs.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "cpufreq_error.h"
#include "system_error.h"

namespace vmpower {

namespace {

bool isSpace(char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

}  // namespace

KhzText::KhzText(std::uint32_t khz) {
    auto [end, ec] = std::to_chars(buf_.data(), buf_.data() + buf_.size() - 1, khz);
    *end++ = '\n';  // 10 digits at most: always fits
    len_ = static_cast<std::size_t>(end - buf_.data());
}

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
    if (!fd) throw SystemError(p, "open for reading", errno);
    std::string out;
    char buf[4096];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw SystemError(p, "read", errno);
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
    } catch (const SystemError&) {
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

Sysfs::KeptFile& Sysfs::keep(std::string_view file) const {
    auto it = kept_.find(file);
    if (it == kept_.end()) {
        it = kept_.emplace(std::string(file), KeptFile{}).first;
        try {
            reopen(file, it->second);
        } catch (...) {
            kept_.erase(it);
            throw;
        }
    }
    return it->second;
}

void Sysfs::reopen(std::string_view file, KeptFile& kept) const {
    kept.fd.reset();
    const auto p = path(file);
    // No O_TRUNC: a sysfs attribute ignores it, and a plain file is cut to
    // the value's length after each write instead.
    kept.fd.reset(::open(p.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!kept.fd) throw SystemError(p, "open for writing", errno);
    struct statfs fs {};
    kept.plain = ::fstatfs(kept.fd.get(), &fs) != 0 || fs.f_type != SYSFS_MAGIC;
}

namespace {

// pwrite at 0 (a plain file is then cut to the value); errno on failure.
bool writeAt0(int fd, bool plain, std::string_view value) {
    ssize_t n;
    do {
        n = ::pwrite(fd, value.data(), value.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return false;
    if (static_cast<std::size_t>(n) != value.size()) {
        errno = EIO;  // short write
        return false;
    }
    return !plain || ::ftruncate(fd, static_cast<off_t>(value.size())) == 0;
}

// A plain file that was removed or replaced since it was opened has no
// links left: writing it would reach nobody.
bool unlinked(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) != 0 || st.st_nlink == 0;
}

}  // namespace

void Sysfs::write(std::string_view file, std::string_view value) const {
    if (kept_.size() >= kMaxKeptOpen && !kept_.contains(file)) {
        KeptFile once;  // closed on return
        reopen(file, once);
        if (!writeAt0(once.fd.get(), once.plain, value)) {
            const int err = errno;
            throw SystemError(path(file), fmt::format("write '{}'", trimSysfs(value)), err);
        }
        if (observer_) observer_(std::string(file), value);
        return;
    }
    KeptFile& kept = keep(file);
    try {
        if (kept.plain && unlinked(kept.fd.get())) reopen(file, kept);
        if (!writeAt0(kept.fd.get(), kept.plain, value)) {
            // Once more on a freshly opened file: the attribute may have been
            // removed and created again (CPU hot-plug). A refusal stays one.
            reopen(file, kept);
            if (!writeAt0(kept.fd.get(), kept.plain, value)) {
                const int err = errno;
                throw SystemError(path(file), fmt::format("write '{}'", trimSysfs(value)), err);
            }
        }
    } catch (...) {
        kept_.erase(kept_.find(file));  // the next write opens it afresh
        throw;
    }
    if (observer_) observer_(std::string(file), value);
}

}  // namespace vmpower

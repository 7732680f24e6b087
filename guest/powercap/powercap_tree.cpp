#include "powercap_tree.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "atomic_file.h"
#include "powercap_text.h"
#include "system_error.h"

namespace vmpower::guest {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& file, const std::string& what, int err) {
    throw PowercapError(file.string() + ": " + what + ": " + std::strerror(err));
}

// The tree's files are replaced whole (common/atomic_file): a reader sees
// the old value or the new one, never half.
void replaceFile(const fs::path& file, std::string_view text) {
    try {
        replaceFileAtomically(file, text);
    } catch (const SystemError& e) {
        throw PowercapError(e.what());
    }
}

void makeDir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) fail(dir, "cannot create the directory", ec.value());
}

std::string line(std::uint64_t v) {
    return std::to_string(v) + '\n';
}

// A zone's files; energy_uj starts at `energy_uj` (modulo the range).
void link(const fs::path& at, const fs::path& to) {
    std::error_code ec;
    if (fs::is_symlink(at, ec)) return;
    fs::create_directory_symlink(to, at, ec);
    if (ec) fail(at, "cannot create the symlink", ec.value());
}

void writeZone(const fs::path& dir, std::string_view name, std::uint64_t energy_uj) {
    makeDir(dir);
    replaceFile(dir / "name", std::string(name) + '\n');
    replaceFile(dir / "max_energy_range_uj", line(kMaxEnergyRangeUj));
    replaceFile(dir / "enabled", "1\n");
    replaceFile(dir / "energy_uj", line(energy_uj % kMaxEnergyRangeUj));
}

std::uint64_t readCounter(const fs::path& file) {
    auto text = readSmallFile(file);
    return text ? parseCounter(*text).value_or(0) : 0;
}

}  // namespace

std::optional<std::string> readSmallFile(const fs::path& file) {
    try {
        return readStateFile(file, 4096);
    } catch (const std::exception&) {
        return std::nullopt;  // not a file of ours (a link, a FIFO, too big)
    }
}

void checkRoot(const fs::path& root) {
    std::error_code ec;
    if (!fs::exists(root, ec)) return;
    if (!fs::is_directory(root, ec)) throw PowercapError(root.string() + ": not a directory");
    auto marker = readSmallFile(root / kMarkerFile);
    if (marker && isMarker(*marker)) return;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename().string();
        if (isRaplName(name))
            throw PowercapError(root.string() + " holds a RAPL zone of its own (" + name +
                                ") and no vmpower marker: a real powercap tree is left alone");
    }
    if (ec) fail(root, "cannot list", ec.value());
}

PowercapTree::PowercapTree(fs::path root) : root_(std::move(root)) {
    checkRoot(root_);
    makeDir(root_);
    lock_ = UniqueFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!lock_) fail(root_, "cannot open", errno);
    if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            throw PowercapError(root_.string() +
                                ": another vmpower-guest powercap keeps this tree (it holds its "
                                "lock)");
        fail(root_, "cannot lock", errno);
    }
    restore();
    layOut();
}

void PowercapTree::restore() {
    auto marker = readSmallFile(root_ / kMarkerFile);
    if (!marker || !isMarker(*marker)) return;
    continued_ = true;
    restored_.package_uj = readCounter(packageDir() / "energy_uj");
    restored_.core_uj = readCounter(coreDir() / "energy_uj");
    restored_host_ = markerHostCount(*marker);
}

void PowercapTree::layOut() {
    makeDir(root_);
    // The marker first: a tree left half laid out is still known as ours.
    replaceFile(root_ / kMarkerFile, formatMarker(restored_host_));
    makeDir(root_ / kControlType);
    replaceFile(root_ / kControlType / "enabled", "1\n");
    writeZone(packageDir(), "package-0", restored_.package_uj);
    writeZone(coreDir(), "core", restored_.core_uj);
    // The kernel's tree reaches each zone from the top (Scaphandre lists
    // it flat) and from its control type (tools that walk intel-rapl/).
    link(root_ / kCoreZone, fs::path(kPackageZone) / kCoreZone);
    link(root_ / kControlType / kPackageZone, fs::path("..") / kPackageZone);
    written_ = restored_;
    written_host_ = restored_host_;
}

void PowercapTree::write(const GuestCount& count, const std::optional<HostCount>& host) {
    // Counters before the marker: a daemon stopped in between counts the
    // last interval again rather than losing it.
    if (count.package_uj != written_.package_uj)
        replaceFile(packageDir() / "energy_uj", line(count.package_uj % kMaxEnergyRangeUj));
    if (count.core_uj != written_.core_uj)
        replaceFile(coreDir() / "energy_uj", line(count.core_uj % kMaxEnergyRangeUj));
    written_ = count;
    if (host != written_host_) replaceFile(root_ / kMarkerFile, formatMarker(host));
    written_host_ = host;
}

}  // namespace vmpower::guest

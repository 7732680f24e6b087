#include "fd_store.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "log.h"

namespace vmpower {

namespace {
constexpr std::string_view kPrefix = "ch-";
constexpr std::size_t kMaxName = 255;  // FDNAME=, systemd's limit
}  // namespace

std::optional<std::string> FdStore::nameFor(std::string_view uuid, unsigned index) {
    // libvirt's UUIDs are hex and dashes; anything else stays out of the
    // notification's text (no ':' or newline can get in).
    const bool plain = !uuid.empty() && std::all_of(uuid.begin(), uuid.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
    });
    if (!plain) return std::nullopt;
    std::string name = std::string(kPrefix) + std::string(uuid) + "-" + std::to_string(index);
    if (name.size() > kMaxName) return std::nullopt;
    return name;
}

FdStore::FdStore(std::unique_ptr<NotifySocket> notify, FdBudget& budget)
    : notify_(std::move(notify)) {
    char** names = nullptr;
    const int n = sd_listen_fds_with_names(1, &names);  // unsets LISTEN_*: no child sees them
    if (n < 0) LOG(Agent).warn("LISTEN_FDS: {}", std::strerror(-n));
    for (int i = 0; i < std::max(n, 0); ++i) {
        UniqueFd fd(SD_LISTEN_FDS_START + i);
        std::string name = names != nullptr && names[i] != nullptr ? names[i] : "unknown";
        if (names != nullptr) std::free(names[i]);
        if (!name.starts_with(kPrefix) || previous_.contains(name)) {
            LOG(Agent).warn("fd {} from the service manager ({}) is no channel's: closed", fd.get(),
                            name);
            if (!previous_.contains(name)) remove(name);
            continue;
        }
        FdBudget::Ticket ticket = budget.take();
        if (!ticket) {
            LOG(Agent).warn("{}: no file descriptor left for channels: closed", name);
            remove(name);
            continue;
        }
        previous_.emplace(std::move(name), KeptSocket{std::move(fd), std::move(ticket)});
    }
    std::free(static_cast<void*>(names));
    if (!previous_.empty())
        LOG(Agent).info("{} channel socket(s) kept by the previous run", previous_.size());
}

void FdStore::kept(std::string_view uuid, unsigned index, int fd) {
    if (!notify_) return;
    auto name = nameFor(uuid, index);
    if (!name) return;
    if (!notify_->send("FDSTORE=1\nFDNAME=" + *name, fd)) {
        LOG(Channels).warn(
            "{}: the service manager is behind: this socket is not kept across "
            "a restart",
            *name);
    }
}

void FdStore::released(std::string_view uuid, unsigned index) {
    if (!stopping_) torn(uuid, index);
}

void FdStore::torn(std::string_view uuid, unsigned index) {
    if (auto name = nameFor(uuid, index)) remove(*name);
}

KeptSocket FdStore::adopt(std::string_view uuid, unsigned index) {
    auto name = nameFor(uuid, index);
    if (!name) return {};
    auto it = previous_.find(*name);
    if (it == previous_.end()) return {};
    KeptSocket kept = std::move(it->second);
    previous_.erase(it);
    return kept;
}

void FdStore::dropUnadopted() {
    for (auto& [name, kept] : previous_) {
        LOG(Channels).info("{}: kept by the previous run, no channel's now: closed", name);
        remove(name);
    }
    previous_.clear();  // closes them, gives their tickets back
}

void FdStore::remove(const std::string& name) {
    if (notify_) (void)notify_->send("FDSTOREREMOVE=1\nFDNAME=" + name);
}

}  // namespace vmpower

#include "energy_sampler.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "atomic_file.h"
#include "log.h"
#include "qemu_pid_file.h"
#include "qemu_threads.h"

namespace vmpower {

namespace {

std::uint64_t toU64(double v) {
    return v <= 0 ? 0 : v >= 1.8e19 ? UINT64_MAX : static_cast<std::uint64_t>(v);
}
// A count of µJ from the state file: an integer, or a number from a file
// written before the counts were integers.
std::uint64_t microjoules(const nlohmann::json& v) {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || d >= 1.8e19) throw std::runtime_error("implausible µJ");
    return static_cast<std::uint64_t>(std::llround(d));
}
std::uint32_t toU32(double v) {
    return v <= 0 ? 0 : v >= 4.2e9 ? UINT32_MAX : static_cast<std::uint32_t>(v);
}

}  // namespace

EnergySampler::EnergySampler(EnergySettings settings, const Clock& clock)
    : settings_(std::move(settings)), clock_(clock), guest_(settings_.guest_period) {
    PowercapTree tree = scanPowercap(settings_.sysfs_root);
    for (const auto& p : tree.problems) LOG(Energy).warn("energy: {}", p);
    if (tree.packages.empty()) {
        unavailable_ = tree.unavailable;
        LOG(Energy).info("energy accounting unavailable: {}", unavailable_);
        return;
    }
    std::vector<EnergyPackage> packages;
    for (const auto& p : tree.packages) {
        packages.push_back({p.name, p.max_energy_range_uj, p.cpus});
        LOG(Energy).info("energy: {} ({}) on CPUs {}", p.name, p.zone, p.cpus.toString());
    }
    const long hz = ::sysconf(_SC_CLK_TCK);
    accounting_ = std::make_unique<EnergyAccounting>(std::move(packages),
                                                     hz > 0 ? double(hz) : 100.0, settings_.idle);
    packages_ = std::move(tree.packages);
    load();
}

EnergySampler::~EnergySampler() {
    save();
}

VmSample EnergySampler::readVm(const WatchedDomain& d) {
    VmSample s;
    s.uuid = d.uuid;
    s.name = d.name;
    s.vcpu_count = d.vcpu_count;
    const QemuPidFile pid = readQemuPidFile(settings_.qemu_pid_dir, d.name);
    if (pid.status != QemuPidFile::Status::Read) {
        s.threads_read = false;
        problems_[d.uuid] = pid.why;
        return s;
    }
    QemuThreads threads = readQemuThreads(settings_.proc_root, pid.pid);
    if (!threads.error.empty()) {
        s.threads_read = false;
        problems_[d.uuid] = threads.error;
        return s;
    }
    s.instance = std::to_string(pid.pid);
    for (const QemuThread& t : threads.threads) {
        if (t.tid == pid.pid) s.instance += ":" + std::to_string(t.stat.start_ticks);
        s.threads.push_back({t.tid, t.vcpu, t.stat.cpu_ticks, t.stat.processor});
    }
    return s;
}

void EnergySampler::sample(std::span<const WatchedDomain> domains) noexcept {
    if (!accounting_) return;
    try {
        const auto now = clock_.now();
        const double elapsed =
            last_sample_ ? std::chrono::duration<double>(now - *last_sample_).count() : 0.0;
        last_sample_ = now;
        std::vector<std::optional<std::uint64_t>> energy;
        for (const auto& p : packages_) {
            const Checked<std::uint64_t> uj = readEnergyUj(settings_.sysfs_root, p);
            if (!uj) LOG(Energy).debug("energy: {}", uj.reason());
            energy.push_back(uj ? std::optional<std::uint64_t>(*uj) : std::nullopt);
        }
        problems_.clear();
        std::vector<VmSample> vms;
        vms.reserve(domains.size());
        for (const auto& d : domains) vms.push_back(readVm(d));
        accounting_->sample(elapsed, energy, vms);
        publish();
        if (++samples_ % std::max(1u, settings_.save_every) == 0) save();
    } catch (const std::exception& e) {
        LOG(Energy).error("energy: sample failed: {}", e.what());
    } catch (...) {
        LOG(Energy).error("energy: sample failed");
    }
}

void EnergySampler::publish() {
    readings_.clear();
    const double interval_s = accounting_->lastIntervalS();
    for (const auto& [uuid, e] : accounting_->vms()) {
        VmEnergyReading r;
        r.energy_uj = e.energy_uj;
        r.watched_ms = toU64(std::round(e.watched_s * 1000));
        r.power_mw = toU32(e.power_w * 1000);
        r.interval_ms = toU32(std::round(interval_s * 1000));
        r.gap = e.gap;
        r.vcpu_count = static_cast<std::uint32_t>(e.vcpu_uj.size());
        for (std::size_t i = 0; i < e.vcpu_uj.size() && i < r.vcpu_uj.size(); ++i)
            r.vcpu_uj[i] = e.vcpu_uj[i];
        readings_.emplace(uuid, r);
    }
    guest_.publish(clock_.now(), readings_);
}

std::optional<VmEnergyReading> EnergySampler::reading(std::string_view uuid) const {
    auto it = readings_.find(std::string(uuid));
    if (it == readings_.end()) return std::nullopt;
    return it->second;
}

std::optional<VmEnergyReading> EnergySampler::guestReading(std::string_view uuid) const {
    return guest_.reading(uuid);
}

// The state file: {"vms": {uuid: {instance, energy_uj, idle_uj, vcpu_uj,
// watched_s}}, "packages": [{name, energy_uj, host_uj, vms_uj, idle_uj}]}.
bool EnergySampler::save() const noexcept {
    if (!accounting_ || settings_.state_file.empty()) return false;
    try {
        const SavedEnergy saved = accounting_->save();
        nlohmann::json vms = nlohmann::json::object();
        for (const auto& [uuid, s] : saved.vms) {
            vms[uuid] = {{"instance", s.instance},
                         {"energy_uj", s.energy_uj},
                         {"idle_uj", s.idle_uj},
                         {"vcpu_uj", s.vcpu_uj},
                         {"watched_s", s.watched_s}};
        }
        nlohmann::json packages = nlohmann::json::array();
        for (const SavedPackageEnergy& p : saved.packages) {
            packages.push_back({{"name", p.name},
                                {"energy_uj", p.energy_uj},
                                {"host_uj", p.host_uj},
                                {"vms_uj", p.vms_uj},
                                {"idle_uj", p.idle_uj}});
        }
        replaceStateFile(settings_.state_file,
                         nlohmann::json{{"vms", vms}, {"packages", packages}}.dump() + "\n", 0600);
        return true;
    } catch (const std::exception& e) {
        LOG(Energy).warn("energy: cannot save {}: {}", settings_.state_file.string(), e.what());
        return false;
    }
}

namespace {

SavedVmEnergy savedVm(const std::string& uuid, const nlohmann::json& v) {
    SavedVmEnergy s;
    s.instance = v.at("instance").get<std::string>();
    s.energy_uj = microjoules(v.at("energy_uj"));
    if (v.contains("idle_uj")) s.idle_uj = microjoules(v.at("idle_uj"));
    const auto& vcpus = v.at("vcpu_uj");
    if (!vcpus.is_array() || vcpus.size() > 4096)
        throw std::runtime_error("implausible values for " + uuid);
    for (const auto& uj : vcpus) s.vcpu_uj.push_back(microjoules(uj));
    s.watched_s = v.at("watched_s").get<double>();
    return s;
}

// A state file from before the packages' totals were kept has none.
std::vector<SavedPackageEnergy> savedPackages(const nlohmann::json& doc) {
    std::vector<SavedPackageEnergy> out;
    if (!doc.contains("packages")) return out;
    for (const auto& p : doc.at("packages")) {
        out.push_back({p.at("name").get<std::string>(), microjoules(p.at("energy_uj")),
                       microjoules(p.at("host_uj")), microjoules(p.at("vms_uj")),
                       microjoules(p.at("idle_uj"))});
    }
    return out;
}

}  // namespace

void EnergySampler::load() {
    if (settings_.state_file.empty()) return;
    SavedEnergy saved;
    try {
        const std::optional<std::string> text = readStateFile(settings_.state_file);
        if (!text) return;  // first start: counts begin now
        const auto doc = nlohmann::json::parse(*text);
        for (const auto& [uuid, v] : doc.at("vms").items())
            saved.vms.emplace(uuid, savedVm(uuid, v));
        saved.packages = savedPackages(doc);
    } catch (const std::exception& e) {
        LOG(Energy).warn("energy: {} ignored, counts begin again: {}",
                         settings_.state_file.string(), e.what());
        return;
    }
    LOG(Energy).info("energy: {} VM count(s) from {} continue where they are the same QEMU",
                     saved.vms.size(), settings_.state_file.string());
    accounting_->restore(std::move(saved));
}

}  // namespace vmpower

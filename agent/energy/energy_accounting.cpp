#include "energy_accounting.h"

#include <algorithm>
#include <set>

namespace vmpower {

EnergyAccounting::EnergyAccounting(std::vector<EnergyPackage> packages, double ticks_per_second)
    : packages_(std::move(packages)), ticks_per_second_(ticks_per_second) {
    for (std::size_t i = 0; i < packages_.size(); ++i) {
        for (unsigned cpu : packages_[i].cpus.cpus()) {
            if (cpu >= package_of_cpu_.size()) package_of_cpu_.resize(cpu + 1, -1);
            package_of_cpu_[cpu] = static_cast<std::int32_t>(i);
        }
    }
    last_reading_.resize(packages_.size());
    package_total_uj_.assign(packages_.size(), 0);
    host_uj_.assign(packages_.size(), 0);
    last_delta_uj_.assign(packages_.size(), 0);
}

std::uint64_t EnergyAccounting::counterDelta(std::uint64_t before, std::uint64_t after,
                                             std::uint64_t max_range) {
    if (after >= before) return after - before;
    // Wrapped: up to max_range, then from 0. A reading above the range is
    // no counter we understand: nothing is attributed.
    if (before > max_range) return 0;
    return (max_range - before) + after;
}

std::optional<std::size_t> EnergyAccounting::packageOf(unsigned cpu) const {
    if (cpu >= package_of_cpu_.size() || package_of_cpu_[cpu] < 0) return std::nullopt;
    return static_cast<std::size_t>(package_of_cpu_[cpu]);
}

const VmEnergy* EnergyAccounting::vm(std::string_view uuid) const {
    auto it = vms_.find(uuid);
    return it == vms_.end() ? nullptr : &it->second;
}

void EnergyAccounting::restore(std::map<std::string, SavedVmEnergy, std::less<>> saved) {
    saved_ = std::move(saved);
}

std::map<std::string, SavedVmEnergy, std::less<>> EnergyAccounting::save() const {
    std::map<std::string, SavedVmEnergy, std::less<>> out;
    for (const auto& [uuid, e] : vms_) {
        out[uuid] = SavedVmEnergy{e.instance, e.energy_uj, e.vcpu_uj, e.watched_s};
    }
    return out;
}

VmEnergy& EnergyAccounting::vmEntry(const VmSample& s, bool& fresh) {
    auto it = vms_.find(s.uuid);
    fresh = it == vms_.end() || it->second.instance != s.instance;
    if (!fresh) return it->second;
    // A VM we had not seen, or a new run of it (its QEMU changed).
    VmEnergy e;
    e.instance = s.instance;
    if (auto saved = saved_.find(s.uuid);
        saved != saved_.end() && saved->second.instance == s.instance) {
        e.energy_uj = saved->second.energy_uj;
        e.vcpu_uj = saved->second.vcpu_uj;
        e.watched_s = saved->second.watched_s;
        e.gap = true;
        saved_.erase(saved);
    }
    state_[s.uuid] = VmState{};
    return vms_.insert_or_assign(s.uuid, std::move(e)).first->second;
}

struct EnergyAccounting::Interval {
    // One thread's CPU ticks in the interval, on one package.
    struct ThreadUse {
        std::size_t vm;  // index into the sample's VMs
        std::optional<unsigned> vcpu;
        std::size_t package;
        double ticks;
    };
    std::vector<ThreadUse> uses;
    std::vector<double> package_ticks;  // per package: the sum of its uses
    std::vector<VmEnergy*> entries;     // per sampled VM
    std::vector<bool> fresh_vm;         // per sampled VM: a baseline this time
    std::vector<double> attributed;     // per package: given to VMs
    std::vector<double> own_threads;    // per sampled VM: its QEMU threads' energy
};

void EnergyAccounting::sample(double elapsed_s,
                              std::span<const std::optional<std::uint64_t>> energy_uj,
                              std::span<const VmSample> vms) {
    const PackageDeltas delta = readCounters(elapsed_s, energy_uj);
    const bool first = !sampled_;
    sampled_ = true;
    Interval interval = measureThreads(vms, delta, first);
    forgetStoppedVms(vms);
    attributeToVms(interval, delta, elapsed_s);
    closeVmIntervals(interval, elapsed_s, first);
    carryRemainders(delta, interval.attributed);
    last_interval_s_ = first ? 0 : elapsed_s;
}

EnergyAccounting::PackageDeltas EnergyAccounting::readCounters(
    double elapsed_s, std::span<const std::optional<std::uint64_t>> energy_uj) {
    PackageDeltas delta(packages_.size());
    for (std::size_t i = 0; i < packages_.size() && i < energy_uj.size(); ++i) {
        if (sampled_ && last_reading_[i] && energy_uj[i] && elapsed_s > 0) {
            delta[i] = static_cast<double>(
                counterDelta(*last_reading_[i], *energy_uj[i], packages_[i].max_energy_range_uj));
        }
        last_reading_[i] = energy_uj[i];
    }
    return delta;
}

// Each thread's ticks in the interval, and per package the sum.
EnergyAccounting::Interval EnergyAccounting::measureThreads(std::span<const VmSample> vms,
                                                            const PackageDeltas& delta,
                                                            bool first) {
    const std::size_t npkg = packages_.size();
    Interval interval;
    interval.package_ticks.assign(npkg, 0);
    interval.fresh_vm.assign(vms.size(), false);
    interval.entries.reserve(vms.size());
    for (std::size_t v = 0; v < vms.size(); ++v) {
        const VmSample& s = vms[v];
        bool fresh = false;
        VmEnergy& e = vmEntry(s, fresh);
        interval.fresh_vm[v] = fresh;
        e.name = s.name;
        if (e.vcpu_uj.size() < s.vcpu_count) e.vcpu_uj.resize(s.vcpu_count, 0);
        e.package_share.assign(npkg, 0);
        e.last_interval_uj = 0;
        e.power_w = 0;
        interval.entries.push_back(&e);
        measureVmThreads(v, s, fresh || first, delta, interval);
    }
    return interval;
}

void EnergyAccounting::measureVmThreads(std::size_t v, const VmSample& s, bool baseline_only,
                                        const PackageDeltas& delta, Interval& interval) {
    VmState& st = state_[s.uuid];
    if (!s.threads_read) {
        st.threads.clear();  // never measure across an interval we did not see
        return;
    }
    std::map<pid_t, ThreadBaseline> next;
    for (const ThreadSample& t : s.threads) {
        next[t.tid] = ThreadBaseline{t.cpu_ticks};
        auto before = st.threads.find(t.tid);
        if (baseline_only || before == st.threads.end()) continue;  // a baseline
        if (t.cpu_ticks <= before->second.cpu_ticks) continue;      // idle (or a new tid)
        auto pkg = packageOf(t.processor);
        if (!pkg || !delta[*pkg]) continue;
        double ticks = static_cast<double>(t.cpu_ticks - before->second.cpu_ticks);
        interval.uses.push_back({v, t.vcpu, *pkg, ticks});
        interval.package_ticks[*pkg] += ticks;
    }
    st.threads = std::move(next);
}

void EnergyAccounting::forgetStoppedVms(std::span<const VmSample> vms) {
    std::set<std::string_view> present;
    for (const VmSample& s : vms) present.insert(s.uuid);
    for (auto it = vms_.begin(); it != vms_.end();) {
        if (present.contains(it->first)) {
            ++it;
        } else {
            state_.erase(it->first);
            it = vms_.erase(it);
        }
    }
}

// Energy per use, scaled so a package never gives more than it had.
void EnergyAccounting::attributeToVms(Interval& interval, const PackageDeltas& delta,
                                      double elapsed_s) {
    interval.attributed.assign(packages_.size(), 0);
    interval.own_threads.assign(interval.entries.size(), 0);
    for (const Interval::ThreadUse& u : interval.uses) {
        const double capacity =
            static_cast<double>(packages_[u.package].cpus.count()) * elapsed_s * ticks_per_second_;
        const double denominator = std::max(capacity, interval.package_ticks[u.package]);
        const double uj = u.ticks / denominator * *delta[u.package];
        VmEnergy& e = *interval.entries[u.vm];
        interval.attributed[u.package] += uj;
        e.energy_uj += uj;
        e.last_interval_uj += uj;
        e.package_share[u.package] += *delta[u.package] > 0 ? uj / *delta[u.package] : 0;
        if (u.vcpu) {
            if (*u.vcpu >= e.vcpu_uj.size()) e.vcpu_uj.resize(*u.vcpu + 1, 0);
            e.vcpu_uj[*u.vcpu] += uj;
        } else {
            interval.own_threads[u.vm] += uj;
        }
    }
}

void EnergyAccounting::closeVmIntervals(const Interval& interval, double elapsed_s, bool first) {
    for (std::size_t v = 0; v < interval.entries.size(); ++v) {
        VmEnergy& e = *interval.entries[v];
        // QEMU's own threads work for every vCPU alike.
        if (interval.own_threads[v] > 0 && !e.vcpu_uj.empty()) {
            const double each = interval.own_threads[v] / static_cast<double>(e.vcpu_uj.size());
            for (double& uj : e.vcpu_uj) uj += each;
        }
        if (!first && !interval.fresh_vm[v] && elapsed_s > 0) {
            e.power_w = e.last_interval_uj / 1e6 / elapsed_s;
            e.watched_s += elapsed_s;
        }
    }
}

// What no VM was given is the host's.
void EnergyAccounting::carryRemainders(const PackageDeltas& delta,
                                       const std::vector<double>& attributed) {
    for (std::size_t i = 0; i < packages_.size(); ++i) {
        last_delta_uj_[i] = delta[i].value_or(0);
        if (!delta[i]) continue;
        package_total_uj_[i] += *delta[i];
        host_uj_[i] += std::max(0.0, *delta[i] - attributed[i]);
    }
}

}  // namespace vmpower

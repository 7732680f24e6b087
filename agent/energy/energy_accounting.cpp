#include "energy_accounting.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace vmpower {

namespace {

// A vCPU index beyond this is no vCPU we believe (a thread name we
// misread): its thread counts as one of QEMU's own.
constexpr unsigned kMaxVcpuIndex = 4096;

std::uint64_t addSaturated(std::uint64_t a, std::uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

// A VM's vCPUs hold all its energy: the first vCPU to appear takes what the
// VM counted before it had any (a state file that kept none).
void ensureVcpus(VmEnergy& e, std::size_t count) {
    if (count <= e.vcpu_uj.size()) return;
    const bool had_none = e.vcpu_uj.empty();
    e.vcpu_uj.resize(count, 0);
    if (had_none) e.vcpu_uj[0] = e.energy_uj;
}

}  // namespace

EnergyAccounting::EnergyAccounting(std::vector<EnergyPackage> packages, double ticks_per_second,
                                   EnergyIdle idle)
    : packages_(std::move(packages)), ticks_per_second_(ticks_per_second), idle_(idle) {
    for (std::size_t i = 0; i < packages_.size(); ++i) {
        for (unsigned cpu : packages_[i].cpus.cpus()) {
            if (cpu >= package_of_cpu_.size()) package_of_cpu_.resize(cpu + 1, -1);
            package_of_cpu_[cpu] = static_cast<std::int32_t>(i);
        }
    }
    const std::size_t n = packages_.size();
    last_reading_.resize(n);
    for (auto* v :
         {&package_total_uj_, &host_uj_, &vms_uj_, &idle_uj_, &last_delta_uj_, &last_host_uj_})
        v->assign(n, 0);
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

void EnergyAccounting::restore(SavedEnergy saved) {
    saved_ = std::move(saved.vms);
    const auto& p = saved.packages;
    if (p.size() != packages_.size()) return;  // none kept, or other packages
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i].name != packages_[i].name || p[i].host_uj > p[i].energy_uj ||
            p[i].energy_uj - p[i].host_uj != p[i].vms_uj || p[i].idle_uj > p[i].vms_uj)
            return;  // not a ledger that adds up: the totals begin again
    }
    for (std::size_t i = 0; i < p.size(); ++i) {
        package_total_uj_[i] = p[i].energy_uj;
        host_uj_[i] = p[i].host_uj;
        vms_uj_[i] = p[i].vms_uj;
        idle_uj_[i] = p[i].idle_uj;
    }
}

SavedEnergy EnergyAccounting::save() const {
    SavedEnergy out;
    for (const auto& [uuid, e] : vms_) {
        out.vms[uuid] = SavedVmEnergy{e.instance, e.energy_uj, e.idle_uj, e.vcpu_uj, e.watched_s};
    }
    for (std::size_t i = 0; i < packages_.size(); ++i) {
        out.packages.push_back(
            {packages_[i].name, package_total_uj_[i], host_uj_[i], vms_uj_[i], idle_uj_[i]});
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
        e.vcpu_uj = saved->second.vcpu_uj;
        e.energy_uj = saved->second.energy_uj;
        // A file from before the ledger was exact: the vCPUs' sum is the VM's.
        if (!e.vcpu_uj.empty()) {
            e.energy_uj = 0;
            for (std::uint64_t uj : e.vcpu_uj) e.energy_uj = addSaturated(e.energy_uj, uj);
        }
        e.idle_uj = std::min(saved->second.idle_uj, e.energy_uj);
        e.watched_s = saved->second.watched_s;
        e.gap = true;
        saved_.erase(saved);
    }
    state_[s.uuid] = VmState{{}, std::vector<ShareCarry>(packages_.size())};
    return vms_.insert_or_assign(s.uuid, std::move(e)).first->second;
}

struct EnergyAccounting::Interval {
    // One VM's threads on one package in the interval.
    struct PackageUse {
        std::map<unsigned, std::uint64_t> vcpu_ticks;    // CPU ticks per vCPU
        std::uint64_t own_ticks = 0;                     // QEMU's own threads'
        std::map<unsigned, std::uint64_t> vcpu_threads;  // vCPU threads here, busy or idle
        Uint128 ticks() const {
            Uint128 sum = own_ticks;
            for (const auto& vcpu : vcpu_ticks) sum += vcpu.second;
            return sum;
        }
        std::uint64_t idleWeight() const {
            std::uint64_t sum = 0;
            for (const auto& vcpu : vcpu_threads) sum += vcpu.second;
            return sum;
        }
    };
    std::vector<VmEnergy*> entries;            // per sampled VM
    std::vector<VmState*> states;              // per sampled VM
    std::vector<bool> counted;                 // per sampled VM: not a baseline this time
    std::vector<std::vector<PackageUse>> use;  // per sampled VM, per package
    std::vector<Uint128> package_ticks;        // per package: the sum of its uses
};

void EnergyAccounting::sample(double elapsed_s,
                              std::span<const std::optional<std::uint64_t>> energy_uj,
                              std::span<const VmSample> vms) {
    const PackageDeltas delta = readCounters(elapsed_s, energy_uj);
    const bool first = !sampled_;
    sampled_ = true;
    Interval interval = measureThreads(vms, delta, first);
    forgetStoppedVms(vms);
    payPackages(interval, delta, elapsed_s);
    closeVmIntervals(interval, delta, elapsed_s, first);
    last_interval_s_ = first ? 0 : elapsed_s;
}

EnergyAccounting::PackageDeltas EnergyAccounting::readCounters(
    double elapsed_s, std::span<const std::optional<std::uint64_t>> energy_uj) {
    PackageDeltas delta(packages_.size());
    for (std::size_t i = 0; i < packages_.size(); ++i) {
        const std::optional<std::uint64_t> now = i < energy_uj.size() ? energy_uj[i] : std::nullopt;
        if (sampled_ && last_reading_[i] && now && elapsed_s > 0) {
            delta[i] = counterDelta(*last_reading_[i], *now, packages_[i].max_energy_range_uj);
        }
        last_reading_[i] = now;
    }
    return delta;
}

// Each VM's threads' ticks in the interval, per package.
EnergyAccounting::Interval EnergyAccounting::measureThreads(std::span<const VmSample> vms,
                                                            const PackageDeltas& delta,
                                                            bool first) {
    const std::size_t npkg = packages_.size();
    Interval interval;
    interval.package_ticks.assign(npkg, 0);
    for (std::size_t v = 0; v < vms.size(); ++v) {
        const VmSample& s = vms[v];
        bool fresh = false;
        VmEnergy& e = vmEntry(s, fresh);
        e.name = s.name;
        ensureVcpus(e, std::min<std::size_t>(s.vcpu_count, kMaxVcpuIndex));
        e.package_last_uj.assign(npkg, 0);
        e.package_share.assign(npkg, 0);
        e.last_interval_uj = 0;
        e.power_w = 0;
        interval.entries.push_back(&e);
        interval.states.push_back(&state_[s.uuid]);
        interval.counted.push_back(!fresh && !first);
        interval.use.emplace_back(npkg);
        measureVmThreads(v, s, fresh || first, delta, interval);
    }
    return interval;
}

void EnergyAccounting::measureVmThreads(std::size_t v, const VmSample& s, bool baseline_only,
                                        const PackageDeltas& delta, Interval& interval) {
    VmState& st = *interval.states[v];
    if (!s.threads_read) {
        st.thread_ticks.clear();  // never measure across an interval we did not see
        return;
    }
    VmEnergy& e = *interval.entries[v];
    std::map<pid_t, std::uint64_t> next;
    for (const ThreadSample& t : s.threads) {
        next[t.tid] = t.cpu_ticks;
        const auto before = st.thread_ticks.find(t.tid);
        const auto pkg = packageOf(t.processor);
        if (baseline_only || !pkg || !delta[*pkg]) continue;
        const std::optional<unsigned> vcpu =
            t.vcpu && *t.vcpu < kMaxVcpuIndex ? t.vcpu : std::nullopt;
        Interval::PackageUse& u = interval.use[v][*pkg];
        if (vcpu) {
            ensureVcpus(e, *vcpu + 1);
            ++u.vcpu_threads[*vcpu];
        }
        if (before == st.thread_ticks.end()) continue;  // a baseline (a new thread)
        if (t.cpu_ticks <= before->second) continue;    // idle (or a new tid)
        const std::uint64_t ticks = t.cpu_ticks - before->second;
        if (vcpu) {
            u.vcpu_ticks[*vcpu] = addSaturated(u.vcpu_ticks[*vcpu], ticks);
        } else {
            u.own_ticks = addSaturated(u.own_ticks, ticks);
        }
        interval.package_ticks[*pkg] += ticks;
    }
    st.thread_ticks = std::move(next);
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

namespace {

// A VM's payout on one package, to its vCPUs: what it ran for by each
// vCPU's ticks, QEMU's own threads' ticks shared equally (weight: vCPU
// ticks × n + own ticks); its idle share by its vCPU threads there.
template <typename Use>
void payVcpus(VmEnergy& e, const Use& u, std::uint64_t busy, std::uint64_t idle) {
    const std::size_t n = e.vcpu_uj.size();
    if (n == 0) return;
    std::vector<Uint128> busy_weight(n, u.own_ticks);
    std::vector<std::uint64_t> idle_weight(n, 0);
    for (const auto& vcpu : u.vcpu_ticks) busy_weight[vcpu.first] += Uint128(vcpu.second) * n;
    for (const auto& vcpu : u.vcpu_threads) idle_weight[vcpu.first] = vcpu.second;
    const std::vector<std::uint64_t> by_ticks = splitByWeight(busy, fitWeights(busy_weight));
    const std::vector<std::uint64_t> by_threads =
        idle > 0 ? splitByWeight(idle, idle_weight) : std::vector<std::uint64_t>(n, 0);
    for (std::size_t i = 0; i < n; ++i) e.vcpu_uj[i] += by_ticks[i] + by_threads[i];
}

}  // namespace

// Each package's delta, in whole µJ, to the VMs and the host (energy_ledger).
void EnergyAccounting::payPackages(Interval& interval, const PackageDeltas& delta,
                                   double elapsed_s) {
    for (std::size_t p = 0; p < packages_.size(); ++p) {
        last_delta_uj_[p] = delta[p].value_or(0);
        last_host_uj_[p] = 0;
        if (!delta[p]) continue;
        const double capacity = std::round(static_cast<double>(packages_[p].cpus.count()) *
                                           elapsed_s * ticks_per_second_);
        const Uint128 total = std::max<Uint128>(
            capacity >= 1.8e19 ? UINT64_MAX : static_cast<std::uint64_t>(std::max(0.0, capacity)),
            interval.package_ticks[p]);
        std::vector<PackageClaim> claims;
        std::vector<std::size_t> claimant;  // the sampled VM of each claim
        for (std::size_t v = 0; v < interval.entries.size(); ++v) {
            if (!interval.counted[v]) continue;
            const Interval::PackageUse& u = interval.use[v][p];
            claims.push_back({&interval.states[v]->carry[p], u.ticks(), u.idleWeight()});
            claimant.push_back(v);
        }
        const PackagePayout paid = payPackage(*delta[p], total, claims, idle_ == EnergyIdle::Vcpus);
        for (std::size_t c = 0; c < claims.size(); ++c) {
            VmEnergy& e = *interval.entries[claimant[c]];
            const std::uint64_t uj = paid.busy[c] + paid.idle[c];
            e.energy_uj += uj;
            e.idle_uj += paid.idle[c];
            e.last_interval_uj += uj;
            e.package_last_uj[p] += uj;
            payVcpus(e, interval.use[claimant[c]][p], paid.busy[c], paid.idle[c]);
            vms_uj_[p] += uj;
            idle_uj_[p] += paid.idle[c];
        }
        package_total_uj_[p] += *delta[p];
        host_uj_[p] += paid.host;
        last_host_uj_[p] = paid.host;
    }
}

void EnergyAccounting::closeVmIntervals(const Interval& interval, const PackageDeltas& delta,
                                        double elapsed_s, bool first) {
    for (std::size_t v = 0; v < interval.entries.size(); ++v) {
        VmEnergy& e = *interval.entries[v];
        for (std::size_t p = 0; p < packages_.size(); ++p) {
            if (delta[p] && *delta[p] > 0)
                e.package_share[p] =
                    static_cast<double>(e.package_last_uj[p]) / static_cast<double>(*delta[p]);
        }
        if (!first && interval.counted[v] && elapsed_s > 0) {
            e.power_w = static_cast<double>(e.last_interval_uj) / 1e6 / elapsed_s;
            e.watched_s += elapsed_s;
        }
    }
}

}  // namespace vmpower

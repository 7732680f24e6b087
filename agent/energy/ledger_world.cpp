#include "ledger_world.h"

#include <array>
#include <numeric>
#include <utility>

namespace vmpower {

namespace {

constexpr double kTicksPerSecond = 100;
constexpr std::size_t kMaxVms = 5;
// Counter ranges: tiny ones wrap nearly every interval; the last is a real
// package's (about 262 kJ).
constexpr std::array<std::uint64_t, 4> kRanges = {997, 65'535, 4'294'967'295, 262'143'328'850};

std::string mismatch(const std::string& what, std::uint64_t got, std::uint64_t want) {
    return what + ": " + std::to_string(got) + " != " + std::to_string(want);
}

}  // namespace

LedgerWorld::LedgerWorld(Draw draw, EnergyIdle idle) : draw_(std::move(draw)), idle_(idle) {
    const std::uint64_t npkg = 1 + draw_(3);
    for (std::uint64_t p = 0; p < npkg; ++p) {
        CpuSet cpus;
        const std::uint64_t n = 1 + draw_(4);
        for (std::uint64_t i = 0; i < n; ++i) cpus.add(cpus_++);
        packages_.push_back({"package-" + std::to_string(p), kRanges[draw_(kRanges.size())], cpus});
        counter_.push_back(draw_(packages_.back().max_energy_range_uj + 1));
    }
    accounting_ = std::make_unique<EnergyAccounting>(packages_, kTicksPerSecond, idle_);
    last_seen_.resize(npkg);
    expected_total_.assign(npkg, 0);
    vms_before_.assign(npkg, 0);
}

std::string LedgerWorld::step() {
    if (sampled_ && chance(16)) restartAgent();
    changeVms();
    static constexpr std::array<double, 5> kElapsed = {0.5, 1.0, 1.0, 2.0, 0.0};
    const double elapsed = kElapsed[draw_(chance(8) ? kElapsed.size() : kElapsed.size() - 1)];
    runThreads(elapsed);
    const auto delta = moveCounters(elapsed);
    std::vector<std::optional<std::uint64_t>> reading(packages_.size());
    for (std::size_t p = 0; p < packages_.size(); ++p) {
        if (!chance(20)) reading[p] = counter_[p];
    }
    // What the agent will count: a delta between two readings it made.
    std::vector<std::optional<std::uint64_t>> counted(packages_.size());
    for (std::size_t p = 0; p < packages_.size(); ++p) {
        if (sampled_ && last_seen_[p] && reading[p] && elapsed > 0) counted[p] = delta[p];
        last_seen_[p] = reading[p];
        expected_total_[p] += counted[p].value_or(0);
    }
    accounting_->sample(elapsed, reading, vmSamples());
    sampled_ = true;
    std::string wrong = check(counted);
    remember();
    return wrong;
}

// What a restarted agent has: what the old one saved.
void LedgerWorld::restartAgent() {
    SavedEnergy saved = accounting_->save();
    accounting_ = std::make_unique<EnergyAccounting>(packages_, kTicksPerSecond, idle_);
    accounting_->restore(std::move(saved));
    std::fill(last_seen_.begin(), last_seen_.end(), std::nullopt);
    sampled_ = false;
    ++restarts_;
}

LedgerWorld::Vm LedgerWorld::newVm(std::string uuid) {
    Vm vm{std::move(uuid), "run" + std::to_string(++runs_), draw_(5), true, {}};
    // Mostly its vCPUs' threads; sometimes one more than it says it has.
    const std::size_t vcpu_threads = vm.vcpus + (chance(10) ? 1 : 0);
    for (std::size_t i = 0; i < vcpu_threads; ++i)
        vm.threads.push_back({next_tid_++, static_cast<unsigned>(i), draw_(1000), 0});
    for (std::uint64_t i = 0, own = draw_(3); i < own; ++i)
        vm.threads.push_back({next_tid_++, std::nullopt, draw_(1000), 0});
    return vm;
}

void LedgerWorld::changeVms() {
    for (auto it = vms_.begin(); it != vms_.end();) {
        if (chance(12)) {
            it = vms_.erase(it);  // stopped
            continue;
        }
        if (chance(20)) it->second = newVm(it->first);  // its QEMU started again
        ++it;
    }
    if (vms_.size() < kMaxVms && chance(3)) {
        std::string uuid = "vm" + std::to_string(draw_(kMaxVms + 2));
        if (!vms_.contains(uuid)) vms_.emplace(uuid, newVm(uuid));
    }
}

void LedgerWorld::runThreads(double elapsed_s) {
    const auto per_thread = static_cast<std::uint64_t>(elapsed_s * kTicksPerSecond);
    for (auto& entry : vms_) {
        Vm& vm = entry.second;
        vm.read = !chance(25);
        for (Thread& t : vm.threads) {
            // Busy, idle, or more than a CPU can run (tick rounding).
            const std::uint64_t most = chance(10) ? 0 : chance(10) ? 3 * per_thread : per_thread;
            t.ticks += draw_(most + 1);
            t.cpu = static_cast<unsigned>(draw_(cpus_ + 1));  // cpus_: in no package
            if (chance(30)) t.tid = next_tid_++;              // a thread replaced
        }
    }
}

std::vector<std::optional<std::uint64_t>> LedgerWorld::moveCounters(double elapsed_s) {
    std::vector<std::optional<std::uint64_t>> delta(packages_.size());
    for (std::size_t p = 0; p < packages_.size(); ++p) {
        const std::uint64_t range = packages_[p].max_energy_range_uj;
        // Less than the range: one wrap at most, as counterDelta assumes.
        const std::uint64_t most =
            std::min<std::uint64_t>(range - 1, static_cast<std::uint64_t>(elapsed_s * 200'000'000));
        const std::uint64_t d = draw_(most + 1);
        if (counter_[p] + d > range) {
            counter_[p] = counter_[p] + d - range;
            ++wraps_;
        } else {
            counter_[p] += d;
        }
        delta[p] = d;
    }
    return delta;
}

std::vector<VmSample> LedgerWorld::vmSamples() const {
    std::vector<VmSample> out;
    for (const auto& entry : vms_) {
        const Vm& vm = entry.second;
        VmSample s{vm.uuid, "name-" + vm.uuid, vm.instance, vm.vcpus, vm.read, {}};
        if (vm.read) {
            for (const Thread& t : vm.threads) s.threads.push_back({t.tid, t.vcpu, t.ticks, t.cpu});
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::string LedgerWorld::check(const std::vector<std::optional<std::uint64_t>>& delta) const {
    const EnergyAccounting& a = *accounting_;
    for (std::size_t p = 0; p < packages_.size(); ++p) {
        const std::string pkg = packages_[p].name + " ";
        const std::uint64_t want = delta[p].value_or(0);
        if (a.lastPackageDeltaUj()[p] != want)
            return mismatch(pkg + "delta", a.lastPackageDeltaUj()[p], want);
        std::uint64_t vms = 0;
        for (const auto& entry : a.vms()) vms += entry.second.package_last_uj[p];
        if (vms + a.lastHostUj()[p] != want)
            return mismatch(pkg + "VMs + host in the interval", vms + a.lastHostUj()[p], want);
        if (a.vmsEnergyUj()[p] - vms_before_[p] != vms)
            return mismatch(pkg + "VMs' total grew", a.vmsEnergyUj()[p] - vms_before_[p], vms);
        if (a.packageEnergyUj()[p] != expected_total_[p])
            return mismatch(pkg + "total", a.packageEnergyUj()[p], expected_total_[p]);
        if (a.hostEnergyUj()[p] + a.vmsEnergyUj()[p] != a.packageEnergyUj()[p])
            return mismatch(pkg + "host + VMs", a.hostEnergyUj()[p] + a.vmsEnergyUj()[p],
                            a.packageEnergyUj()[p]);
        if (a.idleEnergyUj()[p] > a.vmsEnergyUj()[p]) return pkg + "idle above the VMs' total";
        if (idle_ == EnergyIdle::Host && a.idleEnergyUj()[p] != 0)
            return pkg + "idle energy to VMs in host mode";
    }
    std::string wrong = checkVms();
    return wrong.empty() ? checkIdle(delta) : wrong;
}

std::string LedgerWorld::checkVms() const {
    for (const auto& [uuid, e] : accounting_->vms()) {
        const std::string vm = uuid + " ";
        if (!e.vcpu_uj.empty()) {
            const std::uint64_t sum =
                std::accumulate(e.vcpu_uj.begin(), e.vcpu_uj.end(), std::uint64_t{0});
            if (sum != e.energy_uj) return mismatch(vm + "sum of vCPUs", sum, e.energy_uj);
        }
        const std::uint64_t interval =
            std::accumulate(e.package_last_uj.begin(), e.package_last_uj.end(), std::uint64_t{0});
        if (interval != e.last_interval_uj)
            return mismatch(vm + "sum of packages", interval, e.last_interval_uj);
        auto before = seen_.find(uuid);
        if (before != seen_.end() && before->second.instance == e.instance &&
            e.energy_uj - before->second.energy_uj != interval)
            return mismatch(vm + "grew", e.energy_uj - before->second.energy_uj, interval);
        if (e.idle_uj > e.energy_uj) return vm + "idle above its total";
        if (idle_ == EnergyIdle::Host && e.idle_uj != 0) return vm + "idle energy in host mode";
    }
    return "";
}

// vcpus: a package's interval is all the VMs' when one of them counted this
// interval has a vCPU thread on it.
std::string LedgerWorld::checkIdle(const std::vector<std::optional<std::uint64_t>>& delta) const {
    if (idle_ != EnergyIdle::Vcpus) return "";
    for (std::size_t p = 0; p < packages_.size(); ++p) {
        if (!delta[p]) continue;
        bool vcpu_here = false;
        for (const auto& entry : vms_) {
            const Vm& vm = entry.second;
            auto before = seen_.find(vm.uuid);
            if (!vm.read || before == seen_.end() || before->second.instance != vm.instance)
                continue;
            for (const Thread& t : vm.threads)
                vcpu_here = vcpu_here || (t.vcpu && packages_[p].cpus.contains(t.cpu));
        }
        if (vcpu_here && accounting_->lastHostUj()[p] != 0)
            return mismatch(packages_[p].name + " host part with vCPUs on it",
                            accounting_->lastHostUj()[p], 0);
    }
    return "";
}

void LedgerWorld::remember() {
    seen_.clear();
    for (const auto& entry : accounting_->vms())
        seen_[entry.first] = {entry.second.instance, entry.second.energy_uj};
    vms_before_ = accounting_->vmsEnergyUj();
}

}  // namespace vmpower

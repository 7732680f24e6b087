#include "frequency_writer.h"

#include <spdlog/spdlog.h>

#include <map>

#include "cpufreq_error.h"
#include "log.h"

namespace vmpower {

namespace {

std::string switchGroup(const std::string& file) {
    return "turbo:" + file;
}

}  // namespace

FrequencyWriter::FrequencyWriter(std::unique_ptr<Sysfs> sysfs, CpufreqTopology topology,
                                 std::unique_ptr<CpufreqBackend> backend,
                                 const std::filesystem::path& journal_file, std::string boot_id)
    : sysfs_(std::move(sysfs)),
      topology_(std::move(topology)),
      backend_(std::move(backend)),
      journal_(*sysfs_, journal_file, std::move(boot_id)),
      domains_(topology_.domainCount()),
      switch_of_(topology_.domainCount()) {
    if (backend_) survey();
}

void FrequencyWriter::survey() {
    std::vector<std::optional<std::uint32_t>> base(domains_.size());
    std::map<std::string, TurboSwitch> switch_by_file;
    for (std::size_t i = 0; i < domains_.size(); ++i) {
        const CpufreqDomain d{static_cast<std::uint32_t>(i)};
        const CpufreqPolicy& p = topology_.policy(d);
        std::optional<TurboKnob> knob;
        try {
            // Checked once: a domain that breaks later fails its write,
            // which is undone and refused.
            if (Verdict u = backend_->usable(p); !u) throw CpufreqError(u.reason());
            domains_[i].steps = backend_->frequencySteps(p);
            knob = backend_->turboKnob(p);
        } catch (const std::runtime_error& e) {  // CpufreqError, or SystemError from sysfs
            // One broken policy must not take the others down: refuse it.
            LOG(Cpufreq).warn("cpufreq: {} cannot be used, its CPUs will be refused: {}", p.dir,
                              e.what());
            domains_[i].steps.clear();
            domains_[i].unusable = e.what();
        }
        if (knob) {
            auto [it, added] = switch_by_file.try_emplace(
                knob->file, TurboSwitch{static_cast<std::uint32_t>(switches_.size())});
            if (added) switches_.push_back(SwitchState{*knob, {}, {}, {}});
            switches_[indexOf(it->second)].domains.push_back(d);
            switch_of_[i] = it->second;
        }
        if (auto text = sysfs_->tryRead(p.file("base_frequency"))) base[i] = parseKhz(*text);
    }
    // SST-BF: cores whose base frequency is above the others' are the
    // high-priority ones.
    std::optional<std::uint32_t> lowest;
    for (const auto& b : base) {
        if (b && (!lowest || *b < *lowest)) lowest = b;
    }
    for (std::size_t i = 0; i < base.size(); ++i)
        domains_[i].high_priority = base[i] && *base[i] > *lowest;
}

std::string_view FrequencyWriter::driver() const {
    return backend_ ? backend_->name() : std::string_view();
}

const std::vector<std::uint32_t>& FrequencyWriter::steps(CpufreqDomain d) const {
    return domains_[indexOf(d)].steps;
}

std::vector<Stakeholders::Switch> FrequencyWriter::switchLayout() const {
    std::vector<Stakeholders::Switch> out;
    for (const auto& s : switches_) out.push_back({s.knob.global, s.domains});
    return out;
}

std::optional<std::uint32_t> FrequencyWriter::frequencyOf(CpufreqDomain d) const {
    if (domains_[indexOf(d)].applied_khz) return domains_[indexOf(d)].applied_khz;
    return backend_->currentFrequency(topology_.policy(d));
}

std::optional<std::uint32_t> FrequencyWriter::applied(CpufreqDomain d) const {
    return domains_[indexOf(d)].applied_khz;
}

std::uint32_t FrequencyWriter::foundCeiling(CpufreqDomain d) const {
    const DomainState& s = domains_[indexOf(d)];
    if (s.found_ceiling) return *s.found_ceiling;
    // Not journaled yet: the live files are what we found. Unknown: only
    // the top step is surely not slower.
    auto live = backend_->foundCeiling(topology_.policy(d));
    return live ? *live : (s.steps.empty() ? 0 : s.steps.back());
}

bool FrequencyWriter::foundOn(TurboSwitch s) const {
    const SwitchState& k = switches_[indexOf(s)];
    if (k.found_on) return *k.found_on;
    auto text = sysfs_->tryRead(k.knob.file);
    if (!text || (*text != "0" && *text != "1")) return true;  // unknown: assume on (strict)
    return (*text == "1") != k.knob.inverted;
}

Verdict FrequencyWriter::checkAgain(CpufreqDomain d) {
    DomainState& s = domains_[indexOf(d)];
    if (!s.recheck) return Verdict::accepted();
    if (Verdict u = backend_->usable(topology_.policy(d)); !u) return u;
    s.recheck = false;
    return Verdict::accepted();
}

void FrequencyWriter::write(CpufreqDomain d, std::optional<std::uint32_t> target,
                            const std::optional<std::string>& blocked) {
    DomainState& s = domains_[indexOf(d)];
    const CpufreqPolicy& pol = topology_.policy(d);
    if (!target || blocked) {
        if (journal_.has(pol.name)) {
            journal_.restore(pol.name);  // a failed one stays journaled: retried later
            if (blocked) {
                LOG(Cpufreq).info(
                    "cpufreq: {} restored: {} runs there and asked for no frequency; "
                    "the holds take effect again when it leaves",
                    pol.dir, *blocked);
            } else {
                LOG(Cpufreq).info("cpufreq: {} restored (no requests held)", pol.dir);
            }
        }
        s.applied_khz.reset();
        s.prepared = false;
        if (!journal_.has(pol.name)) s.found_ceiling.reset();
        return;
    }
    if (!s.prepared) {
        if (!journal_.has(pol.name)) {
            s.found_ceiling = backend_->foundCeiling(pol);           // what the journal records
            journal_.record(pol.name, backend_->touchedFiles(pol));  // before the first write
        }
        s.applied_khz.reset();
        backend_->prepare(pol);
        s.prepared = true;
    }
    if (s.applied_khz != target) {
        backend_->setFrequency(pol, *target);
        s.applied_khz = target;
        LOG(Cpufreq).debug("cpufreq: {} at {} kHz", pol.dir, *target);
    }
}

void FrequencyWriter::write(TurboSwitch sw, std::optional<bool> want) {
    SwitchState& k = switches_[indexOf(sw)];
    const std::string group = switchGroup(k.knob.file);
    if (!want) {
        if (journal_.has(group)) journal_.restore(group);
        k.applied.reset();
        if (!journal_.has(group)) k.found_on.reset();
        return;
    }
    if (k.applied == want) return;
    if (!journal_.has(group)) {
        k.found_on = foundOn(sw);
        journal_.record(group, {k.knob.file});
    }
    sysfs_->write(k.knob.file, *want != k.knob.inverted ? "1\n" : "0\n");
    k.applied = want;
}

bool FrequencyWriter::restoreAll() {
    for (auto& s : domains_) {
        s.applied_khz.reset();
        s.found_ceiling.reset();
        s.prepared = false;
    }
    for (auto& k : switches_) {
        k.applied.reset();
        k.found_on.reset();
    }
    return journal_.restoreAll();
}

}  // namespace vmpower

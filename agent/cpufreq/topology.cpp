#include "topology.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "cpufreq_error.h"
#include "log.h"
#include "sysfs.h"
#include "system_error.h"

namespace vmpower {

PolicyFile::PolicyFile(const CpufreqPolicy& policy, std::string_view attribute) {
    const std::size_t need = policy.dir.size() + 1 + attribute.size();
    if (need > buf_.size()) {
        throw CpufreqError("cpufreq path too long: " + policy.dir + "/" + std::string(attribute));
    }
    char* out = std::copy(policy.dir.begin(), policy.dir.end(), buf_.data());
    *out++ = '/';
    std::copy(attribute.begin(), attribute.end(), out);
    len_ = need;
}

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kCpuDir = "devices/system/cpu";

std::optional<unsigned> cpuNumber(std::string_view name) {
    if (name.size() < 4 || name.substr(0, 3) != "cpu") return std::nullopt;
    name.remove_prefix(3);
    unsigned n = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
    if (ec != std::errc() || end != name.data() + name.size() || n > CpuSet::kMaxCpu)
        return std::nullopt;
    return n;
}

// affected_cpus is space separated ("2 3"), unlike a cpulist.
CpuSet parseCpuWords(const Sysfs& sysfs, const std::string& file) {
    const std::string text = sysfs.read(file);
    CpuSet set;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find(' ', pos);
        if (end == std::string::npos) end = text.size();
        auto cpu = CpuSet::parse(std::string_view(text).substr(pos, end - pos));
        if (!cpu)
            throw CpufreqError(
                fmt::format("{}: not a CPU list: '{}'", sysfs.path(file).string(), text));
        set |= *cpu;
        pos = end + 1;
    }
    return set;
}

}  // namespace

CpufreqTopology CpufreqTopology::scan(const Sysfs& sysfs) {
    // A file of the tree that cannot be read makes it broken too: one error type for callers.
    try {
        CpufreqTopology topo;
        const fs::path cpu_root = sysfs.path(kCpuDir);
        std::error_code ec;
        if (!fs::is_directory(cpu_root, ec)) return topo;
        const fs::path canonical_root = fs::canonical(sysfs.root());

        std::map<unsigned, fs::path> cpus;  // ordered: policies come out in CPU order
        for (const auto& entry : fs::directory_iterator(cpu_root)) {
            auto n = cpuNumber(entry.path().filename().string());
            if (n && fs::exists(entry.path() / "cpufreq", ec))
                cpus.emplace(*n, entry.path() / "cpufreq");
        }

        std::map<std::string, std::size_t> by_dir;
        for (const auto& [cpu, link] : cpus) {
            // Old kernels had a real directory per CPU instead of the symlink;
            // canonical() handles both.
            const fs::path target = fs::canonical(link, ec);
            if (ec)
                throw CpufreqError(
                    fmt::format("{}: cannot resolve: {}", link.string(), ec.message()));
            const fs::path rel = target.lexically_relative(canonical_root);
            if (rel.empty() || *rel.begin() == "..") {
                throw CpufreqError(fmt::format("{}: points outside the sysfs root", link.string()));
            }
            auto [it, inserted] = by_dir.emplace(rel.string(), topo.policies_.size());
            if (inserted) {
                CpufreqPolicy p;
                p.dir = rel.string();
                p.name = target.filename().string() == "cpufreq" ? fmt::format("cpu{}", cpu)
                                                                 : target.filename().string();
                p.cpus = parseCpuWords(sysfs, p.file("affected_cpus"));
                topo.policies_.push_back(std::move(p));
            }
            const CpufreqPolicy& p = topo.policies_[it->second];
            if (!p.cpus.contains(cpu)) {
                // Offline CPU whose link is still there: nothing to drive.
                LOG(Cpufreq).debug("cpufreq: cpu{} is not in {}/affected_cpus; ignored", cpu,
                                   p.dir);
                continue;
            }
            topo.cpu_to_policy_[cpu] = it->second;
        }
        return topo;
    } catch (const SystemError& e) {
        throw CpufreqError(e.what());
    }
}

std::optional<CpufreqDomain> CpufreqTopology::domainOf(unsigned cpu) const {
    auto it = cpu_to_policy_.find(cpu);
    if (it == cpu_to_policy_.end()) return std::nullopt;
    return CpufreqDomain(static_cast<std::uint32_t>(it->second));
}

}  // namespace vmpower

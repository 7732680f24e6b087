#include "powercap.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <system_error>

namespace vmpower {

namespace {

// Every attribute we read is one short line.
constexpr std::size_t kMaxAttributeBytes = 256;

Checked<std::string> readAttribute(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return Checked<std::string>::refused(file.string() +
                                             ": cannot open (energy_uj is readable by root only)");
    }
    std::string text(kMaxAttributeBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxAttributeBytes)
        return Checked<std::string>::refused(file.string() + ": longer than a sysfs attribute");
    return text;
}

template <typename T>
std::optional<T> parseDecimal(std::string_view text) {
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Online CPUs and the package of each, from devices/system/cpu.
std::vector<std::pair<unsigned, unsigned>> cpuPackages(const std::filesystem::path& root,
                                                       std::vector<std::string>& problems) {
    std::vector<std::pair<unsigned, unsigned>> out;
    const auto online_text = readAttribute(root / "devices/system/cpu/online");
    std::optional<CpuSet> online;
    if (online_text) {
        std::string_view t = *online_text;
        if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
        online = CpuSet::parse(t);
    }
    if (!online) {
        problems.push_back("devices/system/cpu/online: " +
                           (online_text ? std::string("not a CPU list") : online_text.reason()));
        return out;
    }
    for (unsigned cpu : online->cpus()) {
        const auto file = root / ("devices/system/cpu/cpu" + std::to_string(cpu)) /
                          "topology/physical_package_id";
        auto text = readAttribute(file);
        auto id = text ? parseDecimal<unsigned>(*text) : std::nullopt;
        if (!id) {
            problems.push_back("CPU " + std::to_string(cpu) + ": no package (" + file.string() +
                               ")");
            continue;
        }
        out.emplace_back(cpu, *id);
    }
    return out;
}

}  // namespace

std::optional<std::uint64_t> parsePowercapNumber(std::string_view text) {
    return parseDecimal<std::uint64_t>(text);
}

std::optional<unsigned> packageOfZoneName(std::string_view name) {
    if (!name.empty() && name.back() == '\n') name.remove_suffix(1);
    constexpr std::string_view kPrefix = "package-";
    if (!name.starts_with(kPrefix)) return std::nullopt;
    return parseDecimal<unsigned>(name.substr(kPrefix.size()));
}

bool isTopLevelRaplZone(std::string_view dir_name) {
    constexpr std::string_view kPrefix = "intel-rapl:";
    if (!dir_name.starts_with(kPrefix)) return false;
    return parseDecimal<unsigned>(dir_name.substr(kPrefix.size())).has_value();
}

PowercapTree scanPowercap(const std::filesystem::path& sysfs_root) {
    PowercapTree tree;
    const auto class_dir = sysfs_root / "class/powercap";
    std::error_code ec;
    std::filesystem::directory_iterator it(class_dir, ec);
    if (ec) {
        tree.unavailable = class_dir.string() + ": " + ec.message() + " (no RAPL powercap driver)";
        return tree;
    }
    std::vector<std::string> zones;
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        std::string dir = it->path().filename().string();
        if (isTopLevelRaplZone(dir)) zones.push_back(std::move(dir));
    }
    const auto cpus = cpuPackages(sysfs_root, tree.problems);
    for (const auto& zone : zones) {
        RaplPackage p;
        p.zone = zone;
        auto name = readAttribute(sysfs_root / p.file("name"));
        auto id = name ? packageOfZoneName(*name) : std::nullopt;
        if (!id) {
            // psys and other non-package zones are not shared by CPU time.
            if (!name) tree.problems.push_back(zone + ": " + name.reason());
            continue;
        }
        p.name = "package-" + std::to_string(*id);
        p.id = *id;
        auto range_text = readAttribute(sysfs_root / p.file("max_energy_range_uj"));
        auto range = range_text ? parsePowercapNumber(*range_text) : std::nullopt;
        if (!range || *range == 0) {
            tree.problems.push_back(zone + ": max_energy_range_uj unreadable or zero");
            continue;
        }
        p.max_energy_range_uj = *range;
        for (const auto& [cpu, package] : cpus) {
            if (package == p.id) p.cpus.add(cpu);
        }
        if (p.cpus.empty()) {
            tree.problems.push_back(zone + " (" + p.name + "): no online CPU in this package");
            continue;
        }
        if (std::any_of(tree.packages.begin(), tree.packages.end(),
                        [&](const RaplPackage& q) { return q.id == p.id; })) {
            tree.problems.push_back(zone + ": a second zone for " + p.name + ", ignored");
            continue;
        }
        tree.packages.push_back(std::move(p));
    }
    std::sort(tree.packages.begin(), tree.packages.end(),
              [](const RaplPackage& a, const RaplPackage& b) { return a.id < b.id; });
    if (tree.packages.empty()) {
        tree.unavailable = class_dir.string() + ": no usable RAPL package zone";
        for (const auto& p : tree.problems) tree.unavailable += "; " + p;
    }
    return tree;
}

Checked<std::uint64_t> readEnergyUj(const std::filesystem::path& sysfs_root,
                                    const RaplPackage& package) {
    const auto file = sysfs_root / package.file("energy_uj");
    auto text = readAttribute(file);
    if (!text) return text.verdict();
    auto value = parsePowercapNumber(*text);
    if (!value) return Checked<std::uint64_t>::refused(file.string() + ": not a number");
    return *value;
}

}  // namespace vmpower

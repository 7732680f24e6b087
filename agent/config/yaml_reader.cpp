#include "yaml_reader.h"

#include <charconv>
#include <cmath>
#include <set>

#include "config.h"

namespace vmpower {

void YamlReader::fail(const YAML::Mark& at, const std::string& message) const {
    // yaml-cpp counts from 0 and has no mark for nodes it made up.
    int line = at.is_null() ? 1 : at.line + 1;
    int column = at.is_null() ? 1 : at.column + 1;
    throw ConfigError(file_ + ':' + std::to_string(line) + ':' + std::to_string(column) + ": " +
                      message);
}

std::string YamlReader::string(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, key + ": expected a string");
    return n.Scalar();
}

bool YamlReader::boolean(const YAML::Node& n, const std::string& key) const {
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
        fail(n, key + ": expected true or false");
    }
    return value;
}

std::uint32_t YamlReader::u32(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, key + ": expected a non-negative integer");
    const std::string& s = n.Scalar();
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
        fail(n, key + ": expected a non-negative integer below 2^32, got '" + s + "'");
    }
    return value;
}

double YamlReader::nonNegative(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, key + ": expected a non-negative number");
    const std::string& s = n.Scalar();
    double value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value) ||
        value < 0) {
        fail(n, key + ": expected a non-negative number, got '" + s + "'");
    }
    return value;
}

CpuSet YamlReader::cpuList(const YAML::Node& n, const std::string& key, const char* example) const {
    std::string text = string(n, key);
    auto set = CpuSet::parse(text);
    if (!set) {
        fail(n, key + ": '" + text + "' is not a cpulist (like " + example + ") of CPUs up to " +
                    std::to_string(CpuSet::kMaxCpu));
    }
    return *set;
}

std::vector<std::string> YamlReader::stringList(const YAML::Node& n, const std::string& key) const {
    if (n.IsScalar()) return {n.Scalar()};
    if (!n.IsSequence() || n.size() == 0) fail(n, key + ": expected a string or a list of strings");
    std::vector<std::string> out;
    for (const auto& item : n) out.push_back(string(item, key));
    return out;
}

void YamlReader::forEachKey(const YAML::Node& map, const std::string& where,
                            const std::map<std::string, KeyHandler>& handlers) const {
    if (!map.IsMap()) fail(map, where + ": expected a mapping of keys");
    std::set<std::string> seen;
    for (const auto& kv : map) {
        if (!kv.first.IsScalar()) fail(kv.first, where + ": keys must be plain strings");
        const std::string& key = kv.first.Scalar();
        auto handler = handlers.find(key);
        if (handler == handlers.end()) {
            std::string known;
            for (const auto& [name, unused] : handlers) known += (known.empty() ? "" : ", ") + name;
            fail(kv.first, "unknown key '" + key + "' in " + where + " (known: " + known + ")");
        }
        if (!seen.insert(key).second) fail(kv.first, "duplicate key '" + key + "' in " + where);
        handler->second(kv.second);
    }
}

}  // namespace vmpower

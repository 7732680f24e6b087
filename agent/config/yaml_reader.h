#pragma once
// Typed, strict reads of yaml-cpp nodes for the config file. Every failure
// is a ConfigError "FILE:LINE:COLUMN: message" pointing at the offending node.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cpu_set.h"

namespace vmpower {

class YamlReader {
  public:
    explicit YamlReader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const YAML::Mark& at, const std::string& message) const;
    [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
        fail(at.Mark(), message);
    }

    std::string string(const YAML::Node& n, const std::string& key) const;
    bool boolean(const YAML::Node& n, const std::string& key) const;
    std::uint32_t u32(const YAML::Node& n, const std::string& key) const;
    double nonNegative(const YAML::Node& n, const std::string& key) const;
    // A cpulist ("0-3,8"); `example` shows the form in the error.
    CpuSet cpuList(const YAML::Node& n, const std::string& key, const char* example) const;
    // One string or a non-empty list of strings.
    std::vector<std::string> stringList(const YAML::Node& n, const std::string& key) const;

    // Walks a mapping: calls the handler of each key, fails on a key with no
    // handler (listing the known ones) and on a key given twice.
    using KeyHandler = std::function<void(const YAML::Node& value)>;
    void forEachKey(const YAML::Node& map, const std::string& where,
                    const std::map<std::string, KeyHandler>& handlers) const;

  private:
    std::string file_;
};

}  // namespace vmpower

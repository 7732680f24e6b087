#pragma once
// Reads one entry of the config file's `vms:` list into a AccessRule.

#include <yaml-cpp/yaml.h>

#include <cstddef>

#include "access_rules.h"
#include "yaml_reader.h"

namespace vmpower {

AccessRule parseVmRule(const YamlReader& reader, const YAML::Node& node, std::size_t index);

}  // namespace vmpower

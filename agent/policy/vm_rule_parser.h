#pragma once
// Reads one entry of the config file's `vms:` list into a VmPolicy.

#include <yaml-cpp/yaml.h>

#include <cstddef>

#include "policy.h"
#include "yaml_reader.h"

namespace vmpower {

VmPolicy parseVmRule(const YamlReader& reader, const YAML::Node& node, std::size_t index);

}  // namespace vmpower

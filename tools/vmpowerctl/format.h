#pragma once
// Human-readable views of the agent's JSON answers. Fields an older or newer
// agent does not send are shown as "-", never an exception.

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace vmpower::ctl {

using json = nlohmann::json;

void printDomain(std::ostream& out, const json& domain);    // show-vm
void printState(std::ostream& out, const json& state);      // state
void printChannels(std::ostream& out, const json& answer);  // list-channels
void printCpuFreq(std::ostream& out, const json& answer);   // show-cpu-freq
void printRule(std::ostream& out, const json& answer);      // show-rule (a VM's access rule)
void printVersion(std::ostream& out, const json& answer);   // version
void printEnergy(std::ostream& out, const json& answer);    // energy
// A VM's host policy (show-vm, set-policy), each line starting with `who`.
void printHostPolicy(std::ostream& out, const std::string& who, const json& policy);

// 1234567 (uJ) -> "1.235 J"; 2.5 -> "2.50 W".
std::string joulesText(double uj);
std::string wattsText(double w);

// 2400000 -> "2400000 kHz (2.40 GHz)".
std::string khzText(std::uint64_t khz);

}  // namespace vmpower::ctl

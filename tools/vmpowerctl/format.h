#pragma once
// Human-readable views of the agent's JSON answers. Fields an older or newer
// agent does not send are shown as "-", never an exception.

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>

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

// Text from the agent as it may safely reach a terminal: domain names come
// from libvirt and may hold escape sequences. Bytes below 0x20, 0x7f, the C1
// controls (U+0080..U+009F, which some terminals obey) and bytes that are not
// valid UTF-8 are shown as \e, \n, \r, \t or \xNN; everything else, other
// scripts included, as it is. `keep_newlines` leaves '\n' alone (multi-line
// answers such as metrics). Every string vmpowerctl prints from an answer
// goes through it.
std::string escapedText(std::string_view raw, bool keep_newlines = false);

// 1234567 (uJ) -> "1.235 J"; 2.5 -> "2.50 W".
std::string joulesText(double uj);
std::string wattsText(double w);

// 2400000 -> "2400000 kHz (2.40 GHz)".
std::string khzText(std::uint64_t khz);

}  // namespace vmpower::ctl

// Fuzzes the power intent reader (a domain's metadata, writable by anyone
// with libvirt access), its host policy's fields included: any bytes give an
// intent or problems, never a crash,
// a hang or an unbounded list; what it accepts is within the documented
// bounds and survives being written and read again unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "outside_text.h"
#include "power_intent.h"

namespace {

std::string asLibvirtStoresIt(const std::string& element) {
    // libvirt prefixes every element of the one we set with our key.
    std::string out;
    for (std::size_t i = 0; i < element.size(); ++i) {
        out += element[i];
        if (element[i] == '<') {
            if (i + 1 < element.size() && element[i + 1] == '/') out += element[++i];
            out += "vmpower-intent:";
        }
    }
    out.insert(out.find('>') - (out[out.find('>') - 1] == '/' ? 1 : 0),
               " xmlns:vmpower-intent=\"urn:vmpower:intent:1\"");
    return "<domain><metadata>" + out + "</metadata></domain>";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view xml(reinterpret_cast<const char*>(data), size);
    vmpower::PowerIntentReading r = vmpower::readPowerIntent(xml);
    if (r.problems.size() > vmpower::kMaxProblems + 1) __builtin_trap();
    if (!r.intent) return 0;
    unsigned last = 0;
    for (std::size_t i = 0; i < r.intent->vcpus.size(); ++i) {
        const auto& v = r.intent->vcpus[i];
        if (v.vcpu >= vmpower::kMaxVcpus || (i > 0 && v.vcpu <= last)) __builtin_trap();
        if (!v.level && !v.turbo) __builtin_trap();
        if (v.level && !vmpower::plausible(*v.level)) __builtin_trap();
        last = v.vcpu;
    }
    if (const auto& hp = r.intent->host_policy) {
        // A host policy is as its fields read it: vCPUs ascending, bounded,
        // and the same when its fields are read again.
        const auto& v = hp->policy.vcpus;
        if (v.empty() || !std::is_sorted(v.begin(), v.end()) || v.back() >= vmpower::kMaxVcpus)
            __builtin_trap();
        if (!(vmpower::hostPolicyFromFields(vmpower::hostPolicyFields(hp->policy)) == hp->policy))
            __builtin_trap();
    }
    if (r.intent->empty()) return 0;
    vmpower::PowerIntentReading again =
        vmpower::readPowerIntent(asLibvirtStoresIt(vmpower::powerIntentElement(*r.intent)));
    if (!again.intent || !(*again.intent == *r.intent) || !again.problems.empty()) __builtin_trap();
    return 0;
}

// Fuzzes the domain editor on outside XML: parse, check, add, remove. Any
// input must give a DomainEditError or a document the editor reads back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "domain_editor.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        vmpower::DomainEditor editor(text);
        (void)editor.check(editor.vcpuCount() > 64 ? 64 : editor.vcpuCount());
        vmpower::EditSummary added =
            editor.addPowerChannels({3, std::filesystem::path("/var/lib/vmpower/channels")});
        const std::string edited = editor.toString();
        vmpower::DomainEditor reread(edited);  // what we write, we must read
        if (!reread.check(3).missing.empty()) std::abort();
        if (reread.addPowerChannels({3, std::nullopt}).changed()) std::abort();
        editor.removePowerChannels();
        editor.removePowerChannels(true);
        (void)added;
    } catch (const vmpower::DomainEditError&) {
    } catch (const std::invalid_argument&) {
    }
    return 0;
}

#pragma once
// The framing of a VM's power channel: DPDK's 464-byte record (the default)
// or the 16-byte legacy one, and their names as the policy file, the
// control socket and vmpowerctl write them.

#include <cstddef>
#include <optional>
#include <string_view>

#include "name_table.h"
#include "vmpower/protocol.h"

namespace vmpower {

enum class RecordFormat { Dpdk464, Legacy16 };  // per VM; 464 is the default

inline constexpr NameTable<RecordFormat, 2> kRecordFormatNames{{
    {"dpdk-464", RecordFormat::Dpdk464},
    {"legacy-16", RecordFormat::Legacy16},
}};

// 464 or 16 bytes (guest/include/vmpower/protocol.h).
constexpr std::size_t recordSize(RecordFormat f) {
    return f == RecordFormat::Legacy16 ? VMPOWER_PACKET_V1_SIZE : VMPOWER_PACKET_SIZE;
}

constexpr std::string_view recordFormatName(RecordFormat f) {
    return nameIn(kRecordFormatNames, f);
}

constexpr std::optional<RecordFormat> parseRecordFormat(std::string_view word) {
    return valueIn(kRecordFormatNames, word);
}

}  // namespace vmpower

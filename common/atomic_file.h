#pragma once
// Replacing a file so that a reader sees the old bytes or the new ones,
// never half: written beside it, synced, renamed over it. For files other
// programs read while vmpower writes them (node_exporter's textfile
// collector, a provisioned domain XML).

#include <sys/types.h>

#include <filesystem>
#include <string_view>

namespace vmpower {

// Throws std::runtime_error naming the file and the system's reason; the
// temporary file is removed then and `file` is unchanged.
void replaceFileAtomically(const std::filesystem::path& file, std::string_view content,
                           mode_t mode = 0644);

}  // namespace vmpower

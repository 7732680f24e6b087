#pragma once
// Replacing a file so that a reader sees the old bytes or the new ones,
// never half: written beside it, synced, renamed over it. For files other
// programs read while vmpower writes them (node_exporter's textfile
// collector, a provisioned domain XML).

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace vmpower {

// Throws SystemError naming the file and the system's reason; the
// temporary file is removed then and `file` is unchanged. The temporary
// (`file` + ".tmp") is created anew (O_EXCL, O_NOFOLLOW, O_NONBLOCK): whatever
// another user of the directory left at that name (a FIFO that would hang
// the open, a link that would redirect the write) is removed first, and one
// planted again in between fails the write instead of blocking it.
void replaceFileAtomically(const std::filesystem::path& file, std::string_view content,
                           mode_t mode = 0644);

// replaceFileAtomically for a file vmpowerd keeps (a state file, the
// metrics textfile): something other than a regular file at `file` itself
// (a link, a FIFO) is refused with a std::runtime_error naming the file,
// and left as it is, rather than silently replaced: someone put it there,
// and the operator should see it. The link's target is never touched.
void replaceStateFile(const std::filesystem::path& file, std::string_view content,
                      mode_t mode = 0644);

// A state file's whole text; nullopt when it does not exist. Opened without
// following a link and without blocking (O_NOFOLLOW, O_NONBLOCK), and read
// only when it is a regular file of at most `max_bytes`: anything else
// throws a std::runtime_error (SystemError for the system's refusals) that
// names the file and why.
std::optional<std::string> readStateFile(const std::filesystem::path& file,
                                         std::size_t max_bytes = 16U << 20);

// Whether a reader follows a symbolic link at the file's own name.
enum class FileLinks { Refuse, Follow };

// readStateFile with a choice about links: the config file may be a link
// that configuration-management tools keep, so it is read through one; it
// is still opened without blocking and read only when what the name leads
// to is a regular file (a FIFO never hangs the reader).
std::optional<std::string> readRegularFile(const std::filesystem::path& file, std::size_t max_bytes,
                                           FileLinks links);

}  // namespace vmpower

#include "powercap_mount.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>

#include "powercap_tree.h"

namespace vmpower::guest {

namespace fs = std::filesystem;

namespace {

bool isTmpfs(const char* path) {
    struct statfs st {};
    return ::statfs(path, &st) == 0 && st.f_type == TMPFS_MAGIC;
}

}  // namespace

void checkSysfsPowercap() {
    std::error_code ec;
    if (!fs::is_directory(kSysfsPowercap, ec))
        throw PowercapError(std::string(kSysfsPowercap) +
                            ": cannot mount over a missing sysfs dir: use --root DIR and the "
                            "tool's sysfs option");
    // Our own tmpfs from an earlier run: the tree's checks decide.
    if (isTmpfs(kSysfsPowercap)) return checkRoot(kSysfsPowercap);
    fs::directory_iterator it(kSysfsPowercap, ec);
    if (ec) throw PowercapError(std::string(kSysfsPowercap) + ": " + ec.message());
    if (it != fs::directory_iterator{})
        throw PowercapError(std::string(kSysfsPowercap) + " holds zones of its own (" +
                            it->path().filename().string() +
                            "): not covering a real powercap tree; use --root DIR");
}

bool mountPowercapTmpfs() {
    if (isTmpfs(kSysfsPowercap)) return false;
    if (::mount("vmpower-powercap", kSysfsPowercap, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=0755,size=1m") != 0)
        throw PowercapError(std::string("cannot mount a tmpfs over ") + kSysfsPowercap + ": " +
                            std::strerror(errno));
    return true;
}

}  // namespace vmpower::guest

#include "fd_limit.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "log.h"

namespace vmpower {

rlim_t raiseFdLimit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) < 0) return 0;
    if (lim.rlim_cur == lim.rlim_max) return lim.rlim_cur;
    rlim_t old = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) < 0) {
        LOG(Agent).warn("cannot raise the open file limit from {}: {}", old, std::strerror(errno));
        return old;
    }
    LOG(Agent).info("open file limit raised from {} to {}", old, lim.rlim_cur);
    return lim.rlim_cur;
}

}  // namespace vmpower

#pragma once
// The one errno error: "PATH: cannot WHAT: strerror" (or "WHAT: strerror"
// without a path), with the errno kept for callers that branch on it.
// Thrown at the edges only (docs/architecture.md "Errors").

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vmpower {

class SystemError : public std::runtime_error {
  public:
    SystemError(const std::filesystem::path& path, std::string_view what, int err);
    SystemError(std::string_view what, int err);
    int error() const { return errno_; }

  private:
    int errno_;
};

// "PATH: cannot WHAT: strerror(err)" — the same text SystemError carries,
// for callers that log instead of throwing.
std::string systemErrorText(const std::filesystem::path& path, std::string_view what, int err);

// Writes all of `data` to `fd`, retrying short writes and EINTR. 0 on
// success, else the errno of the failed write (EAGAIN included: a
// non-blocking fd that fills up is the caller's business).
int writeAll(int fd, std::string_view data);

}  // namespace vmpower

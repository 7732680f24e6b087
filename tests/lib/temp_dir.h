#pragma once
// Test helper: a fresh directory under $TMPDIR (or /tmp), removed with
// everything in it. The one TempDir of every test (header only: guest/'s
// tests use it too).

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace vmpower::test {

class TempDir {
  public:
    TempDir() : TempDir(defaultBase()) {}
    // Under `base` instead: e.g. /var/tmp for code that warns about /tmp.
    explicit TempDir(const std::filesystem::path& base) {
        std::string tmpl = (base / "vmpower-test-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    // A path inside the directory.
    std::filesystem::path operator/(const std::filesystem::path& rel) const { return path_ / rel; }

  private:
    static std::filesystem::path defaultBase() {
        const char* base = ::getenv("TMPDIR");
        return base && *base ? base : "/tmp";
    }
    std::filesystem::path path_;
};

}  // namespace vmpower::test

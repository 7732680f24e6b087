#include "qemu_conf.h"

#include <fstream>
#include <sstream>

namespace vmpower::provision {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

QemuIdentity parseQemuConf(std::string_view text) {
    QemuIdentity id;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        std::string_view line = trim(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.empty() || line.front() == '#') continue;
        std::size_t eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        std::string_view key = trim(line.substr(0, eq));
        std::string_view value = trim(line.substr(eq + 1));
        // value: "name", possibly followed by a comment
        if (value.size() < 2 || value.front() != '"') continue;
        std::size_t close = value.find('"', 1);
        if (close == std::string_view::npos) continue;
        std::string v(value.substr(1, close - 1));
        if (key == "user") id.user = v;
        if (key == "group") id.group = v;
    }
    return id;
}

QemuIdentity readQemuConf(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) return {};
    std::ostringstream s;
    s << in.rdbuf();
    return parseQemuConf(s.str());
}

}  // namespace vmpower::provision

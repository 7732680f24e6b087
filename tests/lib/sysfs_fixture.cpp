#include "sysfs_fixture.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vmpower::test {

namespace fs = std::filesystem;

fs::path sysfsFixtureDir(std::string_view driver) {
    return fs::path(VMPOWER_SYSFS_FIXTURES) / driver;
}

TreeSnapshot snapshotTree(const fs::path& root) {
    TreeSnapshot snap;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        const std::string rel = it->path().lexically_relative(root).string();
        if (it->is_symlink()) {
            snap[rel] = "-> " + fs::read_symlink(it->path()).string();
        } else if (it->is_directory()) {
            snap[rel] = "/";
        } else {
            std::ifstream in(it->path(), std::ios::binary);
            std::ostringstream bytes;
            bytes << in.rdbuf();
            snap[rel] = bytes.str();
        }
    }
    return snap;
}

std::vector<std::string> diffTrees(const TreeSnapshot& before, const TreeSnapshot& after) {
    std::vector<std::string> out;
    for (const auto& [path, bytes] : before) {
        auto it = after.find(path);
        if (it == after.end() || it->second != bytes) out.push_back(path);
    }
    for (const auto& [path, bytes] : after) {
        if (!before.count(path)) out.push_back(path);
    }
    std::sort(out.begin(), out.end());
    return out;
}

SysfsFixture::SysfsFixture(std::string_view driver) : root_(dir_.path() / "sys") {
    const fs::path source = sysfsFixtureDir(driver);
    if (!fs::is_directory(source)) throw std::runtime_error("no fixture tree " + source.string());
    fs::copy(source, root_, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    pristine_ = snapshotTree(root_);
}

fs::path SysfsFixture::scratch(std::string_view name) const {
    fs::path p = dir_.path() / name;
    fs::create_directories(p);
    return p;
}

std::string SysfsFixture::read(std::string_view file) const {
    std::ifstream in(root_ / file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + (root_ / file).string());
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

void SysfsFixture::write(std::string_view file, std::string_view bytes) const {
    std::ofstream out(root_ / file, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out) throw std::runtime_error("cannot write " + (root_ / file).string());
}

}  // namespace vmpower::test

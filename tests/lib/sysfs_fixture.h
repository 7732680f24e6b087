#pragma once
// Test helper: a private, writable copy of a fixture sysfs tree
// (tests/fixtures/sysfs/<driver>/), and whole-tree snapshots to prove that
// a run changed exactly the expected files, or nothing at all.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "temp_dir.h"

namespace vmpower::test {

// tests/fixtures/sysfs/<driver> in the source tree.
std::filesystem::path sysfsFixtureDir(std::string_view driver);

// Every file of a tree by relative path: regular files as their bytes,
// symlinks as "-> target", directories as "/" (so empty ones count too).
using TreeSnapshot = std::map<std::string, std::string>;
TreeSnapshot snapshotTree(const std::filesystem::path& root);

// Relative paths added, removed or changed between two snapshots, sorted.
std::vector<std::string> diffTrees(const TreeSnapshot& before, const TreeSnapshot& after);

// A copy of one fixture tree (symlinks kept as symlinks) in a TempDir.
// `root()` is the sysfs root to hand to the code under test.
class SysfsFixture {
  public:
    explicit SysfsFixture(std::string_view driver);

    const std::filesystem::path& root() const { return root_; }
    // A directory beside the tree for state (journals) and a fake /proc.
    std::filesystem::path scratch(std::string_view name) const;

    std::string read(std::string_view file) const;  // exact bytes, relative to root()
    void write(std::string_view file, std::string_view bytes) const;

    TreeSnapshot snapshot() const { return snapshotTree(root_); }
    // Files changed since construction (relative to the pristine copy).
    std::vector<std::string> changedFiles() const { return diffTrees(pristine_, snapshot()); }

  private:
    TempDir dir_;
    std::filesystem::path root_;
    TreeSnapshot pristine_;
};

}  // namespace vmpower::test

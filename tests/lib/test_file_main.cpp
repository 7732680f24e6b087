// The main of a room's one test executable: every *_test.cpp of the room is
// linked into a single binary (one link, one precompiled gtest), and each
// meson test runs it with --test_file=NAME_test.cpp, which selects exactly
// the tests defined in that file. So each file's tests still run in a process
// of their own under their old meson test name, and a test added to a file is
// picked up without a list to update. Without --test_file it runs them all.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kFileFlag = "--test_file=";

bool definedIn(std::string_view path, std::string_view file) {
    if (path == file) return true;
    return path.size() > file.size() && path.ends_with(file) &&
           path[path.size() - file.size() - 1] == '/';
}

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);  // removes the --gtest_ flags it knows
    std::string_view file;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg.starts_with(kFileFlag)) {
            file = arg.substr(kFileFlag.size());
        } else {
            std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
            return 2;
        }
    }
    if (file.empty()) return RUN_ALL_TESTS();

    // The exact names of the file's tests, as a --gtest_filter (a filter
    // given on the command line wins: it is how one test is run by hand).
    const ::testing::UnitTest& all = *::testing::UnitTest::GetInstance();
    std::string filter;
    for (int s = 0; s < all.total_test_suite_count(); ++s) {
        const ::testing::TestSuite& suite = *all.GetTestSuite(s);
        for (int t = 0; t < suite.total_test_count(); ++t) {
            const ::testing::TestInfo& info = *suite.GetTestInfo(t);
            if (!definedIn(info.file(), file)) continue;
            if (!filter.empty()) filter += ':';
            filter += std::string(info.test_suite_name()) + '.' + info.name();
        }
    }
    if (filter.empty()) {
        std::fprintf(stderr, "no test is defined in %.*s\n", static_cast<int>(file.size()),
                     file.data());
        return 2;
    }
    if (GTEST_FLAG_GET(filter) == "*") GTEST_FLAG_SET(filter, filter);
    return RUN_ALL_TESTS();
}

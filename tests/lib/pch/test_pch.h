// Precompiled once for each room's test executable (see the top-level
// meson.build): gtest/gmock and the standard headers nearly every test file
// includes. Only headers from outside the project, so a change in vmpower's
// own headers never rebuilds it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

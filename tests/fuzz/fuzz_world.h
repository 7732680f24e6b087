#pragma once
// One set-up (a World) for a whole fuzzing run, made on first use and torn
// down at exit, so temporary trees and sockets go with it.

#include <cstdlib>

namespace vmpower::test {

template <typename World>
World& fuzzWorld() {
    static World* world = [] {
        auto* w = new World();
        std::atexit([] { delete world; });
        return w;
    }();
    return *world;
}

}  // namespace vmpower::test

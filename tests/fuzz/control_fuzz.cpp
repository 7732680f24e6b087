// The control socket's requests (one JSON object per line, from vmpowerctl
// or anything that can reach the root-only socket) against a real Agent on
// libvirt's test driver (test:///default) and a private copy of a fixture
// sysfs tree. Any command may run; the agent must answer, never crash.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "agent.h"
#include "config.h"
#include "fuzz_world.h"
#include "power_setup.h"
#include "sysfs_fixture.h"

namespace {

struct World {
    vmpower::test::SysfsFixture sysfs{"acpi-cpufreq"};
    std::unique_ptr<vmpower::Arbiter> power;
    std::unique_ptr<vmpower::Agent> agent;

    World() {
        spdlog::set_level(spdlog::level::off);
        std::string yaml = "agent:\n  sysfs_root: " + sysfs.root().string() +
                           "\n  state_dir: " + sysfs.scratch("state").string() +
                           "\n  verify_channel_peer: false\nvms:\n  - name: \"*\"\n";
        vmpower::Config cfg = vmpower::parseConfig(yaml, "fuzz.yaml");
        power = vmpower::makeArbiterFor(cfg.agent);
        vmpower::AgentOptions opts;
        opts.uri = "test:///default";
        opts.handle_signals = false;
        opts.control_socket = false;
        opts.notify_systemd = false;
        agent = std::make_unique<vmpower::Agent>(opts, cfg, *power);
        agent->start();
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    World* world = &vmpower::test::fuzzWorld<World>();  // one for the whole run
    std::string line(reinterpret_cast<const char*>(data), size);
    nlohmann::json request;
    try {
        request = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
        return 0;  // ControlServer answers "bad request" before the agent sees it
    }
    try {
        nlohmann::json answer = world->agent->control(request);
        if (!answer.is_object() || !answer.contains("ok")) __builtin_trap();
        (void)answer.dump();
    } catch (const std::exception&) {
        // ControlServer turns these into {"ok": false, "error": ...}.
    }
    return 0;
}

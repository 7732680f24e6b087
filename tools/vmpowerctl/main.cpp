// vmpowerctl: the operator's CLI over vmpowerd's control socket. Wiring
// only; the commands live in vmpowerctl_lib.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "control_client.h"
#include "edit_line_reader.h"
#include "prompt.h"
#include "socket_path.h"

int main(int argc, char** argv) {
    using namespace vmpower::ctl;
    CLI::App app{"vmpowerctl: control a running vmpowerd (no COMMAND, or shell: the vm_power> prompt)"};
    std::string socket, config = kDefaultConfig;
    bool json = false;
    double timeout_s = 5;
    std::vector<std::string> words;
    app.add_option("--socket", socket, "vmpowerd's control socket (default: from the config)");
    auto* config_opt =
        app.add_option("--config", config, "vmpowerd's config file, to find the socket")
            ->capture_default_str();
    app.add_flag("--json", json, "print the agent's answers as JSON");
    app.add_option("--timeout", timeout_s, "seconds to wait for an answer")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 3600.0));
    app.add_option("command", words, "COMMAND [ARGS...]; see the list below");
    std::ostringstream footer;
    printHelp(footer);
    app.footer(footer.str());
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }

    SocketChoice where;
    try {
        where = findControlSocket(
            socket.empty() ? std::nullopt : std::optional<std::filesystem::path>(socket), config,
            config_opt->count() > 0);
    } catch (const UsageError& e) {
        std::cerr << "vmpowerctl: " << e.what() << "\n";
        return kExitUsage;
    }
    if (!where.warning.empty()) std::cerr << "vmpowerctl: " << where.warning << "\n";

    auto timeout = std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
    Invocation inv{[&](const nlohmann::json& request) {
                       return vmpower::controlRequest(where.socket, request, timeout);
                   },
                   std::cout, std::cerr, json};
    const bool shell = words.size() == 1 && canonicalName(words[0]) == "shell";
    if (!words.empty() && !shell) return runCommand(words, inv);

    if (::isatty(STDIN_FILENO) == 0) {
        StreamLineReader reader(std::cin);
        return runPrompt(reader, inv);
    }
    std::cout << "vmpowerctl: talking to " << where.socket.string()
              << "; type help for the commands, quit to leave\n";
    EditLineReader reader;
    runPrompt(reader, inv);
    return kExitOk;
}

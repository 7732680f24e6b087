#include "prompt.h"

#include "args.h"

namespace vmpower::ctl {

std::optional<std::string> StreamLineReader::read(const char*) {
    std::string line;
    if (!std::getline(in_, line)) return std::nullopt;
    return line;
}

int runPrompt(LineReader& reader, Invocation& inv) {
    int last = kExitOk;
    while (auto line = reader.read(kPrompt)) {
        std::vector<std::string> words;
        try {
            words = splitWords(*line);
        } catch (const UsageError& e) {
            inv.err << "vmpowerctl: " << e.what() << '\n';
            last = kExitUsage;
            continue;
        }
        if (words.empty() || words[0].starts_with('#')) continue;
        const CtlCommand* c = findCommand(words[0]);
        if (c != nullptr && c->name == "quit") break;
        last = runCommand(words, inv);
    }
    return last;
}

}  // namespace vmpower::ctl

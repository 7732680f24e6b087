#include "edit_line_reader.h"

#include <editline/readline.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "commands.h"

namespace vmpower::ctl {

namespace {

constexpr int kHistoryLines = 500;

struct FreeDeleter {
    void operator()(char* p) const { std::free(p); }
};

// readline's completion generator: called with state 0, then 1, 2, ... until
// it returns nullptr; each match is malloc'd (readline frees it).
char* completeCommand(const char* text, int state) {
    static std::size_t next = 0;
    if (state == 0) next = 0;
    auto table = commandTable();
    const std::size_t len = std::strlen(text);
    while (next < table.size()) {
        std::string_view name = table[next++].name;
        if (name.substr(0, len) == std::string_view(text, len)) {
            return strndup(name.data(), name.size());
        }
    }
    return nullptr;
}

char** completeFirstWord(const char* text, int start, int) {
    rl_attempted_completion_over = 1;  // no file names
    return start == 0 ? rl_completion_matches(text, completeCommand) : nullptr;
}

}  // namespace

EditLineReader::EditLineReader() {
    rl_readline_name = "vmpowerctl";  // for ~/.editrc
    rl_attempted_completion_function = completeFirstWord;
    using_history();
    stifle_history(kHistoryLines);
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        history_ = std::filesystem::path(home) / ".vmpowerctl_history";
        read_history(history_.c_str());
    }
}

EditLineReader::~EditLineReader() {
    if (!history_.empty()) write_history(history_.c_str());
}

std::optional<std::string> EditLineReader::read(const char* prompt) {
    std::unique_ptr<char, FreeDeleter> line(readline(prompt));
    if (!line) return std::nullopt;
    std::string text(line.get());
    if (text.find_first_not_of(" \t") != std::string::npos) add_history(line.get());
    return text;
}

}  // namespace vmpower::ctl

// Without libedit: the prompt on a terminal reads plain lines (no history).
#include <iostream>

#include "edit_line_reader.h"

namespace vmpower::ctl {

EditLineReader::EditLineReader() = default;
EditLineReader::~EditLineReader() = default;

std::optional<std::string> EditLineReader::read(const char* prompt) {
    std::cout << prompt << std::flush;
    StreamLineReader plain(std::cin);
    return plain.read(prompt);
}

}  // namespace vmpower::ctl

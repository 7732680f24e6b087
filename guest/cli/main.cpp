// vmpower-guest: wiring only; the commands live in the vmpower_guest_cli library.
#include <unistd.h>

#include <iostream>

#include "cli.h"

int main(int argc, char** argv) {
    return vmpower::guest::runCli(argc, argv, std::cin, std::cout, std::cerr,
                                  isatty(STDIN_FILENO) != 0);
}

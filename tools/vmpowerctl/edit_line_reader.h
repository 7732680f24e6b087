#pragma once
// The prompt on a terminal: libedit line editing, history kept in
// ~/.vmpowerctl_history, command names completed with TAB.

#include <filesystem>

#include "prompt.h"

namespace vmpower::ctl {

class EditLineReader final : public LineReader {
  public:
    EditLineReader();
    ~EditLineReader() override;
    EditLineReader(const EditLineReader&) = delete;
    EditLineReader& operator=(const EditLineReader&) = delete;

    std::optional<std::string> read(const char* prompt) override;

  private:
    std::filesystem::path history_;
};

}  // namespace vmpower::ctl

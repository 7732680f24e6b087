#pragma once
// A plain text table: left-aligned columns, two spaces apart, a header row.

#include <ostream>
#include <string>
#include <vector>

namespace vmpower::ctl {

class Table {
  public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    // Each line indented by `indent` spaces; trailing blanks trimmed.
    void print(std::ostream& out, std::size_t indent = 0) const;

  private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace vmpower::ctl

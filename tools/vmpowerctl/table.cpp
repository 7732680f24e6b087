#include "table.h"

#include <algorithm>

namespace vmpower::ctl {

void Table::print(std::ostream& out, std::size_t indent) const {
    std::vector<std::size_t> width(header_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
            width[i] = std::max(width[i], row[i].size());
        }
    };
    measure(header_);
    for (const auto& r : rows_) measure(r);
    auto line = [&](const std::vector<std::string>& row) {
        std::string text(indent, ' ');
        for (std::size_t i = 0; i < width.size(); ++i) {
            std::string cell = i < row.size() ? row[i] : "";
            text += cell;
            if (i + 1 < width.size()) text += std::string(width[i] - cell.size() + 2, ' ');
        }
        text.erase(text.find_last_not_of(' ') + 1);
        out << text << '\n';
    };
    line(header_);
    for (const auto& r : rows_) line(r);
}

}  // namespace vmpower::ctl

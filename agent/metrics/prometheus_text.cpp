#include "prometheus_text.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace vmpower {

namespace {

bool validName(std::string_view n) {
    auto head = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    };
    if (n.empty() || !head(n[0])) return false;
    for (char c : n.substr(1)) {
        if (!head(c) && !(c >= '0' && c <= '9')) return false;
    }
    return true;
}

}  // namespace

std::string escapeLabelValue(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string escapeHelp(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string formatSampleValue(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    auto [end, ec] = std::abs(v) < 9007199254740992.0 && v == std::floor(v)
                         ? std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v))
                         : std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void PrometheusText::family(std::string_view name, MetricType type, std::string_view help) {
    // The names are the agent's constants: a bad one is a programming error.
    if (!validName(name)) throw std::logic_error("bad metric name: " + std::string(name));
    family_ = name;
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += escapeHelp(help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += type == MetricType::Counter ? " counter\n"
            : type == MetricType::Gauge ? " gauge\n"
                                        : " histogram\n";
}

void PrometheusText::sample(const MetricLabels& labels, double value) {
    line("", labels, value);
}

void PrometheusText::histogram(const MetricLabels& labels, std::span<const double> upper_bounds,
                               std::span<const std::uint64_t> counts, double sum) {
    if (counts.size() != upper_bounds.size() + 1)
        throw std::logic_error("a histogram needs one count per bound and one for +Inf");
    MetricLabels with_le = labels;
    with_le.emplace_back("le", "");
    std::uint64_t below = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        below += counts[i];
        with_le.back().second =
            formatSampleValue(i < upper_bounds.size() ? upper_bounds[i] : HUGE_VAL);
        line("_bucket", with_le, static_cast<double>(below));
    }
    line("_sum", labels, sum);
    line("_count", labels, static_cast<double>(below));
}

void PrometheusText::line(std::string_view suffix, const MetricLabels& labels, double value) {
    if (family_.empty()) throw std::logic_error("a metric sample before its family");
    out_ += family_;
    out_ += suffix;
    if (!labels.empty()) {
        out_ += '{';
        bool first = true;
        for (const auto& [key, val] : labels) {
            if (!first) out_ += ',';
            first = false;
            out_ += key;
            out_ += "=\"";
            out_ += escapeLabelValue(val);
            out_ += '"';
        }
        out_ += '}';
    }
    out_ += ' ';
    out_ += formatSampleValue(value);
    out_ += '\n';
}

}  // namespace vmpower

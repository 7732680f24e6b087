#include "line_diff.h"

#include <algorithm>
#include <vector>

namespace vmpower {
namespace {

std::vector<std::string_view> splitLines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        if (nl == std::string_view::npos) {
            lines.push_back(text);
            break;
        }
        lines.push_back(text.substr(0, nl));
        text.remove_prefix(nl + 1);
    }
    return lines;
}

enum class Op { Keep, Remove, Add };
struct Edit {
    Op op;
    std::size_t a;  // line index in before (Keep, Remove)
    std::size_t b;  // line index in after (Keep, Add)
};

// Classic LCS table over the lines that differ; common head and tail are
// trimmed first, so the table stays small for the edits we make.
std::vector<Edit> diffLines(const std::vector<std::string_view>& a,
                            const std::vector<std::string_view>& b) {
    std::size_t head = 0;
    while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
    std::size_t tail = 0;
    while (tail < a.size() - head && tail < b.size() - head &&
           a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) {
        ++tail;
    }
    const std::size_t n = a.size() - head - tail, m = b.size() - head - tail;
    std::vector<std::vector<unsigned>> lcs(n + 1, std::vector<unsigned>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;) {
        for (std::size_t j = m; j-- > 0;) {
            lcs[i][j] = a[head + i] == b[head + j] ? lcs[i + 1][j + 1] + 1
                                                   : std::max(lcs[i + 1][j], lcs[i][j + 1]);
        }
    }
    std::vector<Edit> edits;
    for (std::size_t k = 0; k < head; ++k) edits.push_back({Op::Keep, k, k});
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[head + i] == b[head + j]) {
            edits.push_back({Op::Keep, head + i++, head + j++});
        } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
            edits.push_back({Op::Remove, head + i++, 0});  // removals first, as diff -u
        } else {
            edits.push_back({Op::Add, 0, head + j++});
        }
    }
    for (std::size_t k = 0; k < tail; ++k) {
        edits.push_back({Op::Keep, a.size() - tail + k, b.size() - tail + k});
    }
    return edits;
}

std::string range(std::size_t start, std::size_t count) {
    // diff -u: 1-based start; an empty range names the line before it.
    std::string s = std::to_string(count == 0 ? start : start + 1);
    if (count != 1) s += "," + std::to_string(count);
    return s;
}

}  // namespace

std::string unifiedDiff(std::string_view before, std::string_view after,
                        std::string_view beforeLabel, std::string_view afterLabel,
                        unsigned context) {
    const auto a = splitLines(before), b = splitLines(after);
    const std::vector<Edit> edits = diffLines(a, b);
    std::string out;
    std::size_t k = 0;
    while (k < edits.size()) {
        while (k < edits.size() && edits[k].op == Op::Keep) ++k;
        if (k == edits.size()) break;
        // A hunk: from `context` lines before the change to `context` after
        // the last change closer than 2*context lines to the previous one.
        std::size_t start = k >= context ? k - context : 0;
        std::size_t end = k;
        while (end < edits.size()) {
            std::size_t next = end;
            while (next < edits.size() && edits[next].op != Op::Keep) ++next;
            std::size_t keep = next;
            while (keep < edits.size() && edits[keep].op == Op::Keep) ++keep;
            end = next;
            if (keep == edits.size() || keep - next > 2 * context) break;
            end = keep;
        }
        std::size_t stop = std::min(edits.size(), end + context);
        std::size_t aStart = 0, bStart = 0, aCount = 0, bCount = 0;
        bool aSet = false, bSet = false;
        std::string body;
        for (std::size_t e = start; e < stop; ++e) {
            const Edit& ed = edits[e];
            if (ed.op != Op::Add) {
                if (!aSet) aStart = ed.a, aSet = true;
                ++aCount;
            }
            if (ed.op != Op::Remove) {
                if (!bSet) bStart = ed.b, bSet = true;
                ++bCount;
            }
            char mark = ed.op == Op::Keep ? ' ' : ed.op == Op::Add ? '+' : '-';
            body += mark;
            body += ed.op == Op::Add ? b[ed.b] : a[ed.a];
            body += '\n';
        }
        // An empty side is numbered by the lines before the hunk.
        if (!aSet) {
            std::size_t removedBefore = 0;
            for (std::size_t e = 0; e < start; ++e) removedBefore += edits[e].op != Op::Add;
            aStart = removedBefore;
        }
        if (!bSet) {
            std::size_t addedBefore = 0;
            for (std::size_t e = 0; e < start; ++e) addedBefore += edits[e].op != Op::Remove;
            bStart = addedBefore;
        }
        if (out.empty()) {
            out += "--- " + std::string(beforeLabel) + "\n+++ " + std::string(afterLabel) + "\n";
        }
        out += "@@ -" + range(aStart, aCount) + " +" + range(bStart, bCount) + " @@\n" + body;
        k = stop;
    }
    return out;
}

}  // namespace vmpower

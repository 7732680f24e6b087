#include "domain_editor_layout.h"

namespace vmpower::layout {
namespace {

bool isWhitespace(pugi::xml_node n) {
    if (n.type() != pugi::node_pcdata) return false;
    std::string_view v = n.value();
    return v.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The indentation before `n` when it starts a line, nullopt otherwise.
bool lineIndent(pugi::xml_node n, std::string& out) {
    pugi::xml_node prev = n.previous_sibling();
    if (!prev || !isWhitespace(prev)) return false;
    std::string_view v = prev.value();
    std::size_t nl = v.rfind('\n');
    if (nl == std::string_view::npos) return false;
    out = std::string(v.substr(nl + 1));
    return true;
}

}  // namespace

Indent forChildrenOf(pugi::xml_node parent) {
    Indent result;
    std::string parentIndent;
    bool parentOnLine = lineIndent(parent, parentIndent);
    for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && lineIndent(c, result.self)) {
            result.formatted = true;
            break;
        }
    }
    // The indentation unit: from this level if we can see it, else from the
    // root's children, else two spaces (what libvirt writes).
    std::string rootChild;
    pugi::xml_node root;  // the document element
    for (pugi::xml_node n = parent.root().first_child(); n && !root; n = n.next_sibling()) {
        if (n.type() == pugi::node_element) root = n;
    }
    for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && lineIndent(c, rootChild)) break;
    }
    if (result.formatted && parentOnLine && result.self.size() > parentIndent.size() &&
        result.self.compare(0, parentIndent.size(), parentIndent) == 0) {
        result.unit = result.self.substr(parentIndent.size());
    } else {
        result.unit = rootChild.empty() ? "  " : rootChild;
    }
    if (!result.formatted && (parentOnLine || parent == root) && !rootChild.empty()) {
        result.formatted = true;
        result.self = parentIndent + result.unit;
    }
    return result;
}

pugi::xml_node insertChild(pugi::xml_node parent, pugi::xml_node after, const char* name,
                           const Indent& indent) {
    if (!indent.formatted) {
        return after ? parent.insert_child_after(name, after) : parent.append_child(name);
    }
    const std::string lead = "\n" + indent.self;
    if (after) {
        pugi::xml_node ws = parent.insert_child_after(pugi::node_pcdata, after);
        ws.set_value(lead.c_str());
        return parent.insert_child_after(name, ws);
    }
    pugi::xml_node last = parent.last_child();
    if (last && isWhitespace(last)) {
        pugi::xml_node ws = parent.insert_child_before(pugi::node_pcdata, last);
        ws.set_value(lead.c_str());
        return parent.insert_child_before(name, last);
    }
    // An empty or unformatted parent: close it on its own line afterwards.
    std::string parentIndent;
    lineIndent(parent, parentIndent);
    parent.append_child(pugi::node_pcdata).set_value(lead.c_str());
    pugi::xml_node element = parent.append_child(name);
    parent.append_child(pugi::node_pcdata).set_value(("\n" + parentIndent).c_str());
    return element;
}

pugi::xml_node appendNested(pugi::xml_node element, const char* name, const Indent& indent) {
    if (indent.formatted) {
        element.append_child(pugi::node_pcdata)
            .set_value(("\n" + indent.self + indent.unit).c_str());
    }
    return element.append_child(name);
}

void closeElement(pugi::xml_node element, const Indent& indent) {
    if (indent.formatted && element.first_child()) {
        element.append_child(pugi::node_pcdata).set_value(("\n" + indent.self).c_str());
    }
}

void removeWithLeadingWhitespace(pugi::xml_node node) {
    pugi::xml_node parent = node.parent();
    pugi::xml_node prev = node.previous_sibling();
    if (prev && isWhitespace(prev)) parent.remove_child(prev);
    parent.remove_child(node);
}

void removeIfEmpty(pugi::xml_node element) {
    if (!element) return;
    for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) {
        if (!isWhitespace(c)) return;
    }
    removeWithLeadingWhitespace(element);
}

pugi::xml_node lastChildNamed(pugi::xml_node parent,
                              std::initializer_list<std::string_view> names) {
    for (std::string_view name : names) {
        pugi::xml_node found;
        for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
            if (c.type() == pugi::node_element && name == c.name()) found = c;
        }
        if (found) return found;
    }
    return {};
}

namespace {

// The quote character an element read from `original` used for its
// attributes (libvirt writes ', libxml2's metadata "), so that what we write
// back is byte-identical. Elements we created get libvirt's '.
char quoteOf(pugi::xml_node element, std::string_view original) {
    const std::ptrdiff_t at = element.offset_debug();
    if (at < 0 || static_cast<std::size_t>(at) >= original.size()) return '\'';
    for (std::size_t i = static_cast<std::size_t>(at); i < original.size(); ++i) {
        const char c = original[i];
        if (c == '>') break;
        if (c == '=') {
            std::size_t q = original.find_first_not_of(" \t\r\n", i + 1);
            if (q != std::string_view::npos && (original[q] == '"' || original[q] == '\'')) {
                return original[q];
            }
            break;
        }
    }
    return '\'';
}

void escape(std::string& out, std::string_view text, char quote) {
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '\'':
                out += quote == '\'' ? "&apos;" : "'";
                break;
            case '"':
                out += quote == '"' ? "&quot;" : "\"";
                break;
            case '\n':
                out += quote ? "&#10;" : "\n";
                break;
            case '\r':
                out += quote ? "&#13;" : "\r";
                break;
            case '\t':
                out += quote ? "&#9;" : "\t";
                break;
            default:
                out += c;
        }
    }
}

void write(std::string& out, pugi::xml_node n, std::string_view original) {
    switch (n.type()) {
        case pugi::node_element:
        case pugi::node_declaration: {
            const bool decl = n.type() == pugi::node_declaration;
            const char q = quoteOf(n, original);
            out += decl ? "<?" : "<";
            out += n.name();
            for (pugi::xml_attribute a : n.attributes()) {
                out += ' ';
                out += a.name();
                out += '=';
                out += q;
                escape(out, a.value(), q);
                out += q;
            }
            if (decl) {
                out += "?>";
            } else if (!n.first_child()) {
                out += "/>";
            } else {
                out += '>';
                for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
                    write(out, c, original);
                out += "</";
                out += n.name();
                out += '>';
            }
            break;
        }
        case pugi::node_pcdata:
            escape(out, n.value(), 0);
            break;
        case pugi::node_cdata:
            out += "<![CDATA[" + std::string(n.value()) + "]]>";
            break;
        case pugi::node_comment:
            out += "<!--" + std::string(n.value()) + "-->";
            break;
        case pugi::node_pi:
            out += "<?" + std::string(n.name());
            if (*n.value()) out += " " + std::string(n.value());
            out += "?>";
            break;
        case pugi::node_doctype:
            out += "<!DOCTYPE " + std::string(n.value()) + ">";
            break;
        default:
            break;
    }
}

}  // namespace

std::string serialize(pugi::xml_node node, std::string_view original) {
    std::string out;
    write(out, node, original);
    return out;
}

}  // namespace vmpower::layout

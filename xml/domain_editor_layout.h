#pragma once
// Whitespace-preserving edits of a pugixml tree: new elements get the
// indentation of their siblings, and removing one takes exactly the
// whitespace its insertion added, so add-then-remove gives the input back.

#include <pugixml.hpp>
#include <string>
#include <string_view>

namespace vmpower::layout {

struct Indent {
    bool formatted = false;  // the document uses newlines between elements
    std::string self;        // indentation of the new element
    std::string unit;        // one more level
};

// How a new child of `parent` is indented.
Indent forChildrenOf(pugi::xml_node parent);

// Inserts <name> after `after` (or at the end of `parent` when `after` is
// null), with a newline and indentation before it when formatted.
pugi::xml_node insertChild(pugi::xml_node parent, pugi::xml_node after, const char* name,
                           const Indent& indent);

// Appends <name> as the last child of an element inserted with `indent`;
// call closeElement once all children are in.
pugi::xml_node appendNested(pugi::xml_node element, const char* name, const Indent& indent);
void closeElement(pugi::xml_node element, const Indent& indent);

// Removes `node` and the whitespace just before it.
void removeWithLeadingWhitespace(pugi::xml_node node);

// A node (and its subtree) as text, raw: each element read from `original`
// keeps its quote style, new ones get libvirt's single quotes.
std::string serialize(pugi::xml_node node, std::string_view original = {});

}  // namespace vmpower::layout

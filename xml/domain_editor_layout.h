#pragma once
// Whitespace-preserving edits of a pugixml tree: new elements get the
// indentation of their siblings, and removing one takes exactly the
// whitespace its insertion added, so add-then-remove gives the input back.

#include <initializer_list>
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
// Removes `element` when nothing but whitespace is left in it, so that
// removing what we added to a bare domain gives the bare domain back.
void removeIfEmpty(pugi::xml_node element);

// Where a new element goes: after the last child named names[0], else the
// last named names[1], and so on; a null node when there is none.
pugi::xml_node lastChildNamed(pugi::xml_node parent, std::initializer_list<std::string_view> names);

// A node (and its subtree) as text, raw: each element read from `original`
// keeps its quote style, new ones get libvirt's single quotes.
std::string serialize(pugi::xml_node node, std::string_view original = {});

}  // namespace vmpower::layout

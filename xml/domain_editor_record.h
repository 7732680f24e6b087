#pragma once
// vmpower's record of what it added to a domain: <vmpower:provision
// xmlns:vmpower='urn:vmpower:provision:1'> in <metadata>, one <controller
// index='N'/> per virtio-serial controller and one <channel name='...'/> per
// power channel. Found by namespace, whatever prefix the domain gives it.

#include <pugixml.hpp>
#include <set>
#include <string>
#include <string_view>

#include "domain_editor_layout.h"

namespace vmpower::record {

// An element's name without its namespace prefix.
std::string_view localName(pugi::xml_node n);

// The record, or a null node when the domain has none.
pugi::xml_node find(pugi::xml_node domain);
// The record, added (and <metadata> with it) when the domain has none.
pugi::xml_node findOrAdd(pugi::xml_node domain);

// What the record names; a damaged controller entry names nothing.
std::set<unsigned> controllers(pugi::xml_node record);
std::set<std::string> channels(pugi::xml_node record);

// Appends an entry in the record's own prefix.
void noteController(pugi::xml_node record, unsigned index, const layout::Indent& indent);
void noteChannel(pugi::xml_node record, const char* name, const layout::Indent& indent);

// Takes out the channel entries not in `remaining`; true when any went.
bool forgetChannelsExcept(pugi::xml_node record, const std::set<std::string>& remaining);
void forgetController(pugi::xml_node record, unsigned index);

// No entries left (no child element).
bool empty(pugi::xml_node record);

}  // namespace vmpower::record

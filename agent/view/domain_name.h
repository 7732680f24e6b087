#pragma once

#include <string>

namespace vmpower {

struct DomainName {  // a domain libvirt knows, running or not
    std::string name;
    std::string uuid;
};

}  // namespace vmpower

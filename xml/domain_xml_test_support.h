#pragma once
// What the domain XML reader's tests share: a minimal domain around given
// elements, a channel element, and readable views of the result.

#include <algorithm>
#include <string>
#include <vector>

#include "domain_xml.h"

namespace vmpower::testing {

// A minimal domain around the given elements.
inline std::string domainXml(const std::string& body, const std::string& attrs = "") {
    return "<domain type='kvm'" + attrs +
           "><name>t</name>"
           "<uuid>00000000-0000-4000-8000-000000000001</uuid>" +
           body + "</domain>";
}

inline std::string channelXml(const std::string& type, const std::string& name,
                              const std::string& source, const std::string& alias = "") {
    std::string xml =
        "<channel type='" + type + "'>" + source + "<target type='virtio' name='" + name + "'/>";
    if (!alias.empty()) xml += "<alias name='" + alias + "'/>";
    return xml + "</channel>";
}

inline std::vector<std::string> pinStrings(const std::vector<CpuSet>& pins) {
    std::vector<std::string> out;
    for (const auto& p : pins) out.push_back(p.toString());
    return out;
}

inline bool anyProblemContains(const DomainDescription& d, const std::string& a,
                               const std::string& b = "") {
    return std::any_of(d.problems.begin(), d.problems.end(), [&](const std::string& p) {
        return p.find(a) != std::string::npos && p.find(b) != std::string::npos;
    });
}

inline std::string allProblems(const DomainDescription& d) {
    std::string out;
    for (const auto& p : d.problems) out += p + "\n";
    return out;
}

inline const CpuSet kHost{0, 1, 2, 3, 4, 5, 6, 7};

}  // namespace vmpower::testing

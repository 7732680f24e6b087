#include "domain.h"

namespace vmpower {

DomainView domainView(const Domain& d) {
    DomainView v{d.identity.name, d.identity.uuid, d.id, d.vcpus, d.emulator_pcpus, d.problems, {}};
    v.channels.reserve(d.channels.size());
    for (const auto& [index, ch] : d.channels) v.channels.push_back(ch->view());
    return v;
}

}  // namespace vmpower

#include "kept_host_policies.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "atomic_file.h"
#include "uuid.h"

namespace vmpower {

using json = nlohmann::json;

std::string keptHostPoliciesText(const KeptHostPolicies& kept) {
    json domains = json::object();
    for (const auto& [uuid, k] : kept) {
        json fields = json::object();
        for (const auto& [key, value] : hostPolicyFields(k.policy)) fields[key] = value;
        domains[uuid] = {{"name", k.name},
                         {"domain_id", k.domain_id},
                         {"set_by", std::string(nameIn(kPolicyOriginNames, k.origin))},
                         {"policy", fields}};
    }
    return json{{"version", 1}, {"domains", domains}}.dump(2) + "\n";
}

KeptHostPolicies parseKeptHostPolicies(std::string_view text, std::vector<std::string>& problems) {
    KeptHostPolicies out;
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || doc.value("version", 0) != 1 ||
        !doc.contains("domains") || !doc["domains"].is_object()) {
        problems.push_back("not a version 1 kept-policies file");
        return out;
    }
    for (const auto& [uuid, entry] : doc["domains"].items()) {
        try {
            if (!canonicalUuid(uuid) || *canonicalUuid(uuid) != uuid)
                throw std::invalid_argument("not a canonical UUID");
            if (!entry.is_object()) throw std::invalid_argument("not an object");
            KeptHostPolicy k;
            k.name = entry.at("name").get<std::string>();
            k.domain_id = entry.at("domain_id").get<int>();
            auto origin = valueIn(kPolicyOriginNames, entry.at("set_by").get<std::string>());
            if (!origin || *origin == PolicyOrigin::Rule)
                throw std::invalid_argument("set_by must be guest or operator");
            k.origin = *origin;
            HostPolicyFields fields;
            for (const auto& [key, value] : entry.at("policy").items())
                fields[key] = value.get<std::string>();
            k.policy = hostPolicyFromFields(fields);
            out.emplace(uuid, std::move(k));
        } catch (const std::exception& e) {
            problems.push_back("entry " + uuid.substr(0, 36) + ": " + e.what() + "; left out");
        }
    }
    return out;
}

KeptHostPolicies readKeptHostPolicies(const std::filesystem::path& file,
                                      std::vector<std::string>& problems) {
    // Never through a link, never blocking on a FIFO: a refusal is one
    // problem, and nothing is kept.
    std::optional<std::string> text;
    try {
        text = readStateFile(file);
    } catch (const std::exception& e) {
        problems.push_back(std::string("not read: ") + e.what());
        return {};
    }
    if (!text) return {};
    return parseKeptHostPolicies(*text, problems);
}

}  // namespace vmpower

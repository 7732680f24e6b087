#include "intent_file.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cpu_limits.h"
#include "host_policy_sink.h"
#include "uuid.h"

namespace vmpower {

namespace {

using json = nlohmann::json;

json vcpuJson(const VcpuIntent& v) {
    json out = {{"vcpu", v.vcpu}};
    if (v.level) {
        out["level"] = std::string(nameIn(kLevelKindNames, v.level->kind));
        if (v.level->kind == LevelPosition::Kind::Step) {
            out["from_top"] = v.level->from_top;
            out["of"] = v.level->of;
        }
    }
    if (v.khz) out["khz"] = *v.khz;
    if (v.turbo) out["turbo"] = *v.turbo;
    return out;
}

VcpuIntent readVcpu(const json& j) {
    VcpuIntent v;
    v.vcpu = j.at("vcpu").get<unsigned>();
    if (v.vcpu >= kMaxVcpus) throw std::invalid_argument("vcpu out of range");
    if (j.contains("level")) {
        auto kind = valueIn(kLevelKindNames, j.at("level").get<std::string>());
        if (!kind) throw std::invalid_argument("level must be max, min or step");
        LevelPosition p{*kind, 0, 0};
        if (*kind == LevelPosition::Kind::Step) {
            p.from_top = j.at("from_top").get<unsigned>();
            p.of = j.at("of").get<unsigned>();
            if (!plausible(p)) throw std::invalid_argument("not a usable step");
        }
        v.level = p;
    }
    if (j.contains("khz")) v.khz = j.at("khz").get<std::uint32_t>();
    if (j.contains("turbo")) v.turbo = j.at("turbo").get<bool>();
    if (!v.level && !v.turbo) throw std::invalid_argument("vcpu holds nothing");
    return v;
}

json hostPolicyJson(const IntentHostPolicy& p) {
    json fields = json::object();
    for (const auto& [key, value] : hostPolicyFields(p.policy)) fields[key] = value;
    return {{"set_by", p.set_by_guest ? "guest" : "operator"}, {"policy", fields}};
}

IntentHostPolicy readHostPolicy(const json& set_by, const json& policy) {
    auto origin = valueIn(kPolicyOriginNames, set_by.get<std::string>());
    if (!origin || *origin == PolicyOrigin::Rule)
        throw std::invalid_argument("set_by must be guest or operator");
    HostPolicyFields fields;
    for (const auto& [key, value] : policy.items()) fields[key] = value.get<std::string>();
    return {hostPolicyFromFields(fields), *origin == PolicyOrigin::Guest};
}

void checkUuid(const std::string& uuid) {
    if (!canonicalUuid(uuid) || *canonicalUuid(uuid) != uuid)
        throw std::invalid_argument("not a canonical UUID");
}

StoredIntent readEntry(const std::string& uuid, const json& entry) {
    checkUuid(uuid);
    if (!entry.is_object()) throw std::invalid_argument("not an object");
    StoredIntent s;
    s.name = entry.at("name").get<std::string>();
    s.run = {entry.at("domain_id").get<int>(), entry.value("qemu_start", std::uint64_t{0})};
    s.since = std::chrono::system_clock::time_point(
        std::chrono::seconds(entry.value("since", std::int64_t{0})));
    unsigned previous = 0;
    for (const json& v : entry.value("vcpus", json::array())) {
        VcpuIntent vcpu = readVcpu(v);
        if (!s.intent.vcpus.empty() && vcpu.vcpu <= previous)
            throw std::invalid_argument("vcpus not ascending");
        previous = vcpu.vcpu;
        s.intent.vcpus.push_back(vcpu);
    }
    if (entry.contains("host_policy")) {
        const json& p = entry.at("host_policy");
        s.intent.host_policy = readHostPolicy(p.at("set_by"), p.at("policy"));
    }
    return s;
}

// Each entry on its own: a bad one is a problem, the rest are kept.
template <typename Read>
StoredIntents readEntries(const json& domains, std::vector<std::string>& problems, Read read) {
    StoredIntents out;
    for (const auto& [uuid, entry] : domains.items()) {
        try {
            out.emplace(uuid, read(uuid, entry));
        } catch (const std::exception& e) {
            problems.push_back("entry " + uuid.substr(0, 36) + ": " + e.what() + "; left out");
        }
    }
    return out;
}

}  // namespace

std::string intentFileText(const IntentFile& file) {
    json domains = json::object();
    for (const auto& [uuid, s] : file.domains) {
        json vcpus = json::array();
        for (const VcpuIntent& v : s.intent.vcpus) vcpus.push_back(vcpuJson(v));
        json entry = {
            {"name", s.name},
            {"domain_id", s.run.id},
            {"qemu_start", s.run.qemu_start},
            {"since",
             std::chrono::duration_cast<std::chrono::seconds>(s.since.time_since_epoch()).count()},
            {"vcpus", vcpus}};
        if (s.intent.host_policy) entry["host_policy"] = hostPolicyJson(*s.intent.host_policy);
        domains[uuid] = std::move(entry);
    }
    return json{{"format", kIntentFileFormat},
                {"version", 1},
                {"boot_id", file.boot_id},
                {"domains", domains}}
               .dump(2) +
           "\n";
}

std::optional<IntentFile> parseIntentFile(std::string_view text,
                                          std::vector<std::string>& problems) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("format") ||
        doc["format"] != kIntentFileFormat || doc.value("version", 0) != 1 ||
        !doc.contains("domains") || !doc["domains"].is_object() || !doc.contains("boot_id") ||
        !doc["boot_id"].is_string()) {
        problems.push_back("not a version 1 vmpower intent file");
        return std::nullopt;
    }
    IntentFile out;
    out.boot_id = doc["boot_id"].get<std::string>();
    out.domains = readEntries(doc["domains"], problems, readEntry);
    return out;
}

std::optional<StoredIntents> parseLegacyHostPolicies(std::string_view text,
                                                     std::vector<std::string>& problems) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || doc.value("version", 0) != 1 ||
        !doc.contains("domains") || !doc["domains"].is_object()) {
        problems.push_back("not a version 1 kept-policies file");
        return std::nullopt;
    }
    return readEntries(doc["domains"], problems, [](const std::string& uuid, const json& entry) {
        checkUuid(uuid);
        if (!entry.is_object()) throw std::invalid_argument("not an object");
        StoredIntent s;
        s.name = entry.at("name").get<std::string>();
        s.run = {entry.at("domain_id").get<int>(), 0};
        s.intent.host_policy = readHostPolicy(entry.at("set_by"), entry.at("policy"));
        return s;
    });
}

}  // namespace vmpower

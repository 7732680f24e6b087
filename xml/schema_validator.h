#pragma once
// Validates domain XML against libvirt's RelaxNG schema with libxml2, in
// process. Errors are collected with line numbers; libxml2 prints nothing.

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vmpower {

struct SchemaIssue {
    int line = 0;  // 0 when libxml2 gives none
    std::string message;
};

class SchemaValidator {
  public:
    static constexpr const char* kLibvirtDomainSchema = "/usr/share/libvirt/schemas/domain.rng";

    // Loads and compiles the schema; throws SchemaLoadError when it cannot.
    explicit SchemaValidator(const std::filesystem::path& schema = kLibvirtDomainSchema);
    ~SchemaValidator();
    SchemaValidator(const SchemaValidator&) = delete;
    SchemaValidator& operator=(const SchemaValidator&) = delete;

    // Empty when `xml` is well-formed and valid.
    std::vector<SchemaIssue> validate(std::string_view xml) const;

  private:
    struct Compiled;
    std::unique_ptr<Compiled> compiled_;
};

class SchemaLoadError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

std::string formatIssues(const std::vector<SchemaIssue>& issues);

}  // namespace vmpower

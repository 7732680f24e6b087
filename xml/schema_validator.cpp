#include "schema_validator.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>

#include <climits>

namespace vmpower {
namespace {

// One deleter per libxml2 handle type.
struct DocDeleter {
    void operator()(xmlDoc* p) const { xmlFreeDoc(p); }
};
struct ParserCtxtDeleter {
    void operator()(xmlParserCtxt* p) const { xmlFreeParserCtxt(p); }
};
struct RelaxNGParserCtxtDeleter {
    void operator()(xmlRelaxNGParserCtxt* p) const { xmlRelaxNGFreeParserCtxt(p); }
};
struct RelaxNGDeleter {
    void operator()(xmlRelaxNG* p) const { xmlRelaxNGFree(p); }
};
struct RelaxNGValidCtxtDeleter {
    void operator()(xmlRelaxNGValidCtxt* p) const { xmlRelaxNGFreeValidCtxt(p); }
};

using DocPtr = std::unique_ptr<xmlDoc, DocDeleter>;
using ParserCtxtPtr = std::unique_ptr<xmlParserCtxt, ParserCtxtDeleter>;
using RelaxNGParserCtxtPtr = std::unique_ptr<xmlRelaxNGParserCtxt, RelaxNGParserCtxtDeleter>;
using RelaxNGPtr = std::unique_ptr<xmlRelaxNG, RelaxNGDeleter>;
using RelaxNGValidCtxtPtr = std::unique_ptr<xmlRelaxNGValidCtxt, RelaxNGValidCtxtDeleter>;

SchemaIssue toIssue(const xmlError* e) {
    SchemaIssue issue;
    issue.line = e->line;
    issue.message = e->message ? e->message : "unknown libxml2 error";
    while (!issue.message.empty() && issue.message.back() == '\n') issue.message.pop_back();
    const auto* node = static_cast<const xmlNode*>(e->node);
    if (node && node->type == XML_ELEMENT_NODE) {
        if (issue.line == 0) issue.line = static_cast<int>(xmlGetLineNo(node));
        issue.message =
            "<" + std::string(reinterpret_cast<const char*>(node->name)) + ">: " + issue.message;
    }
    return issue;
}

// libxml2 calls these instead of printing to stderr.
void collect(void* sink, xmlError* e) {
    if (e) static_cast<std::vector<SchemaIssue>*>(sink)->push_back(toIssue(e));
}
void ignoreGeneric(void*, const char*, ...) {}

// Silences libxml2's global fallback handlers for one scope (this thread).
class QuietLibxml {
  public:
    explicit QuietLibxml(std::vector<SchemaIssue>* sink) {
        xmlSetGenericErrorFunc(nullptr, ignoreGeneric);
        xmlSetStructuredErrorFunc(sink, collect);
    }
    ~QuietLibxml() {
        xmlSetStructuredErrorFunc(nullptr, nullptr);
        xmlSetGenericErrorFunc(nullptr, nullptr);
    }
    QuietLibxml(const QuietLibxml&) = delete;
    QuietLibxml& operator=(const QuietLibxml&) = delete;
};

}  // namespace

struct SchemaValidator::Compiled {
    RelaxNGPtr schema;
};

SchemaValidator::SchemaValidator(const std::filesystem::path& schema)
    : compiled_(std::make_unique<Compiled>()) {
    xmlInitParser();
    std::vector<SchemaIssue> issues;
    QuietLibxml quiet(&issues);
    RelaxNGParserCtxtPtr parser(xmlRelaxNGNewParserCtxt(schema.c_str()));
    if (!parser) throw SchemaLoadError("cannot create a RelaxNG parser for " + schema.string());
    xmlRelaxNGSetParserStructuredErrors(parser.get(), collect, &issues);
    compiled_->schema.reset(xmlRelaxNGParse(parser.get()));
    if (!compiled_->schema) {
        throw SchemaLoadError("cannot load schema " + schema.string() + ":\n" +
                              formatIssues(issues));
    }
}

SchemaValidator::~SchemaValidator() = default;

std::vector<SchemaIssue> SchemaValidator::validate(std::string_view xml) const {
    std::vector<SchemaIssue> issues;
    if (xml.size() > static_cast<std::size_t>(INT_MAX)) {
        return {{0, "document too large"}};
    }
    QuietLibxml quiet(&issues);
    ParserCtxtPtr ctxt(xmlNewParserCtxt());
    if (!ctxt) return {{0, "out of memory creating an XML parser"}};
    // No network, no entity expansion from outside: the text is untrusted.
    DocPtr doc(xmlCtxtReadMemory(ctxt.get(), xml.data(), static_cast<int>(xml.size()), "domain.xml",
                                 nullptr,
                                 XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    if (!doc) {
        if (issues.empty()) {
            const xmlError* e = xmlCtxtGetLastError(ctxt.get());
            issues.push_back(e ? toIssue(e) : SchemaIssue{0, "not well-formed XML"});
        }
        return issues;
    }
    issues.clear();  // warnings from a document that parsed are not schema issues
    RelaxNGValidCtxtPtr valid(xmlRelaxNGNewValidCtxt(compiled_->schema.get()));
    if (!valid) return {{0, "out of memory creating a RelaxNG validator"}};
    xmlRelaxNGSetValidStructuredErrors(valid.get(), collect, &issues);
    int rc = xmlRelaxNGValidateDoc(valid.get(), doc.get());
    if (rc != 0 && issues.empty()) issues.push_back({0, "the document does not match the schema"});
    if (rc == 0) issues.clear();
    return issues;
}

std::string formatIssues(const std::vector<SchemaIssue>& issues) {
    std::string out;
    for (const SchemaIssue& i : issues) {
        out += i.line > 0 ? "line " + std::to_string(i.line) + ": " : std::string();
        out += i.message + "\n";
    }
    return out;
}

}  // namespace vmpower

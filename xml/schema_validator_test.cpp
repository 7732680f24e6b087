#include "schema_validator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"

namespace vmpower {
namespace {

const SchemaValidator& validator() {
    static const SchemaValidator v;
    return v;
}

TEST(SchemaValidator, AcceptsAMinimalDomain) {
    EXPECT_TRUE(validator()
                    .validate("<domain type='qemu'><name>x</name><memory>65536</memory>"
                              "<os><type>hvm</type></os></domain>")
                    .empty());
}

TEST(SchemaValidator, ReportsSchemaErrorsWithLines) {
    auto issues = validator().validate(
        "<domain type='qemu'>\n<name>x</name>\n<memory>65536</memory>\n<os><type>hvm</type></os>\n"
        "<devices>\n<channel type='unix'>\n<target "
        "type='nonsense'/>\n</channel>\n</devices>\n</domain>");
    ASSERT_FALSE(issues.empty());
    bool lined = false;
    for (const auto& i : issues) lined = lined || i.line > 0;
    EXPECT_TRUE(lined) << formatIssues(issues);
}

TEST(SchemaValidator, ReportsMalformedXmlWithLine) {
    auto issues = validator().validate("<domain type='qemu'>\n<name>x</name>\n<memory>\n</domain>");
    ASSERT_FALSE(issues.empty());
    EXPECT_EQ(issues[0].line, 4) << formatIssues(issues);
    EXPECT_NE(formatIssues(issues).find("line 4: "), std::string::npos);
}

TEST(SchemaValidator, NoNetworkNoExternalEntities) {
    auto issues = validator().validate(
        "<!DOCTYPE domain [<!ENTITY e SYSTEM 'http://example.invalid/x'>]>"
        "<domain type='qemu'><name>&e;</name><memory>1</memory><os><type>hvm</type></os></domain>");
    EXPECT_FALSE(issues.empty());
}

TEST(SchemaValidator, MissingSchemaThrows) {
    EXPECT_THROW(SchemaValidator("/nonexistent/domain.rng"), SchemaLoadError);
    test::TempDir dir;
    const auto bad = dir / "bad-schema.rng";
    std::ofstream(bad) << "<grammar xmlns='http://relaxng.org/ns/structure/1.0'><start>";
    EXPECT_THROW(SchemaValidator{bad}, SchemaLoadError);
}

}  // namespace
}  // namespace vmpower

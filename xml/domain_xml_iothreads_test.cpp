// The domain XML reader's IOThreads: libvirt places them, so they are in a
// VM's footprint (issue 25).
#include <gtest/gtest.h>

#include "domain_xml.h"
#include "domain_xml_test_support.h"

namespace vmpower {
namespace {

using namespace testing;

TEST(DomainXmlIothreads, NoIothreadsNoCpus) {
    DomainDescription d = parseDomainXml(domainXml("<vcpu>2</vcpu>"));
    EXPECT_TRUE(d.iothreads.empty());
    EXPECT_TRUE(iothreadCpus(d, kHost).empty());
}

TEST(DomainXmlIothreads, PinnedOnesRunOnTheirPinTheOthersWhereLibvirtPutsThem) {
    // Two IOThreads, the second pinned: the first runs on every host CPU.
    DomainDescription d = parseDomainXml(
        domainXml("<vcpu>2</vcpu><iothreads>2</iothreads>"
                  "<cputune><vcpupin vcpu='0' cpuset='2'/><iothreadpin iothread='2' cpuset='5'/>"
                  "</cputune>"));
    EXPECT_TRUE(d.problems.empty()) << allProblems(d);
    EXPECT_EQ(d.iothreads, (std::vector<unsigned>{1, 2}));
    EXPECT_EQ(d.iothreadpin.at(2).toString(), "5");
    EXPECT_EQ(iothreadCpus(d, kHost).toString(), "0-7");
    // Both pinned: only their pins.
    d = parseDomainXml(domainXml(
        "<vcpu>2</vcpu><iothreads>2</iothreads><cputune><iothreadpin iothread='1' cpuset='4'/>"
        "<iothreadpin iothread='2' cpuset='5'/></cputune>"));
    EXPECT_EQ(iothreadCpus(d, kHost).toString(), "4-5");
    // Unpinned under <vcpu cpuset>: that cpuset.
    d = parseDomainXml(domainXml("<vcpu cpuset='6-7'>2</vcpu><iothreads>1</iothreads>"));
    EXPECT_EQ(iothreadCpus(d, kHost).toString(), "6-7");
}

TEST(DomainXmlIothreads, IothreadidsNameThemAndTheCountTopsThemUp) {
    DomainDescription d =
        parseDomainXml(domainXml("<vcpu>1</vcpu><iothreads>3</iothreads><iothreadids>"
                                 "<iothread id='2'/><iothread id='7'/></iothreadids>"
                                 "<cputune><iothreadpin iothread='7' cpuset='3'/>"
                                 "<iothreadpin iothread='2' cpuset='1'/>"
                                 "<iothreadpin iothread='1' cpuset='0'/></cputune>"));
    EXPECT_EQ(d.iothreads, (std::vector<unsigned>{1, 2, 7}));
    EXPECT_EQ(iothreadCpus(d, kHost).toString(), "0-1,3");
    // <iothreadids> alone count too.
    d = parseDomainXml(domainXml("<vcpu>1</vcpu><iothreadids><iothread id='4'/></iothreadids>"));
    EXPECT_EQ(d.iothreads, (std::vector<unsigned>{4}));
    EXPECT_EQ(iothreadCpus(d, CpuSet{1, 3}).toString(), "1,3");
}

TEST(DomainXmlIothreads, NonsenseIsAProblemNeverAThrow) {
    DomainDescription d = parseDomainXml(
        domainXml("<vcpu>1</vcpu><iothreads>x</iothreads><iothreadids><iothread id='0'/>"
                  "<iothread id='y'/></iothreadids><cputune><iothreadpin iothread='9' cpuset='1'/>"
                  "</cputune>"));
    EXPECT_TRUE(d.iothreads.empty());
    EXPECT_EQ(d.problems.size(), 4u) << allProblems(d);
    EXPECT_TRUE(anyProblemContains(d, "<iothreadpin iothread='9'>", "names no IOThread"));
    d = parseDomainXml(domainXml("<vcpu>1</vcpu><iothreads>99999999999</iothreads>"));
    EXPECT_EQ(d.iothreads.size(), DomainDescription::kMaxIothreads);
    EXPECT_EQ(d.problems.size(), 1u) << allProblems(d);
}

}  // namespace
}  // namespace vmpower

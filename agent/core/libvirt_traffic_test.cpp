#include "libvirt_traffic.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace vmpower {
namespace {

constexpr const char* kUuidA = "11111111-2222-3333-4444-555555555501";
constexpr const char* kUuidB = "11111111-2222-3333-4444-555555555502";
constexpr const char* kNowhere = "11111111-2222-3333-4444-5555555555ff";

virTypedParameter text(const char* field, char* value) {
    virTypedParameter p{};
    std::snprintf(p.field, sizeof p.field, "%s", field);
    p.type = VIR_TYPED_PARAM_STRING;
    p.value.s = value;
    return p;
}

virTypedParameter count(const char* field, unsigned long long value) {
    virTypedParameter p{};
    std::snprintf(p.field, sizeof p.field, "%s", field);
    p.type = VIR_TYPED_PARAM_ULLONG;
    p.value.ul = value;
    return p;
}

TEST(LibvirtTraffic, InterfacesOfReadsEachInterfacesNameAndReceivedPackets) {
    char vnet0[] = "vnet0", vnet1[] = "vnet1", odd[] = "odd";
    std::vector<virTypedParameter> params{
        count("net.count", 2),         text("net.0.name", vnet0),  count("net.0.rx.pkts", 42),
        count("net.0.rx.bytes", 4200), text("net.1.name", vnet1),  count("net.1.rx.pkts", 7),
        text("net.x.name", odd),       text("net.256.name", odd),  count("net..rx.pkts", 9),
        count("vcpu.0.time", 1),       text("net.1.rx.pkts", odd),  // the wrong type: ignored
    };
    virDomainStatsRecord rec{};
    rec.params = params.data();
    rec.nparams = static_cast<int>(params.size());
    const auto nics = interfacesOf(rec);
    ASSERT_EQ(nics.size(), 2u);
    EXPECT_EQ(nics.at(0).device, "vnet0");
    EXPECT_EQ(nics.at(0).rx_packets, 42u);
    EXPECT_EQ(nics.at(1).device, "vnet1");
    EXPECT_EQ(nics.at(1).rx_packets, 7u);
    EXPECT_FALSE(nics.at(0).mac) << "the stats name no MAC";
}

std::string domainXml(const char* name, const char* uuid) {
    return std::string("<domain type='test'><name>") + name + "</name><uuid>" + uuid +
           "</uuid><memory>1048576</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
           "<devices><interface type='network'><mac address='52:54:00:00:00:01'/>"
           "<source network='default'/></interface></devices></domain>";
}

// libvirt's test driver (in process, no daemon): it answers
// virDomainListGetStats, with no interface counters of its own.
struct TrafficReaderOnTheTestDriver : ::testing::Test {
    void SetUp() override {
        silenceLibvirtErrors();
        conn.reset(virConnectOpen("test:///default"));
        ASSERT_TRUE(conn) << lastLibvirtError();
        a.reset(virDomainCreateXML(conn.get(), domainXml("traffic-a", kUuidA).c_str(), 0));
        b.reset(virDomainCreateXML(conn.get(), domainXml("traffic-b", kUuidB).c_str(), 0));
        ASSERT_TRUE(a && b) << lastLibvirtError();
    }
    void TearDown() override {
        for (DomainHandle* d : {&a, &b})
            if (*d) virDomainDestroy(d->get());  // transient: gone
    }
    ConnectHandle conn;
    DomainHandle a, b;
    TrafficReader reader;
};

TEST_F(TrafficReaderOnTheTestDriver, ReadsTheDomainsAskedForOnlyAndKeepsTheirHandles) {
    TrafficSample got = reader.read(conn.get(), {kUuidA, kNowhere});
    EXPECT_TRUE(got.contains(kUuidA));
    EXPECT_FALSE(got.contains(kNowhere)) << "no such domain: not in the answer";
    EXPECT_FALSE(got.contains(kUuidB)) << "not asked";
    EXPECT_EQ(reader.cachedDomains(), 1u);

    got = reader.read(conn.get(), {kUuidA, kUuidB});
    EXPECT_EQ(got.size(), 2u);
    EXPECT_EQ(reader.cachedDomains(), 2u);
    got = reader.read(conn.get(), {kUuidB});  // A is asked about no more: dropped
    EXPECT_EQ(got.size(), 1u);
    EXPECT_EQ(reader.cachedDomains(), 1u);
    reader.domainChanged(kUuidB);
    EXPECT_EQ(reader.cachedDomains(), 1u);
    reader.forget(kUuidB);
    EXPECT_EQ(reader.cachedDomains(), 0u);
    EXPECT_TRUE(reader.read(conn.get(), {}).empty());
}

TEST_F(TrafficReaderOnTheTestDriver, ADomainGoneSinceItsHandleWasKeptIsLeftOut) {
    ASSERT_EQ(reader.read(conn.get(), {kUuidA, kUuidB}).size(), 2u);
    ASSERT_EQ(virDomainDestroy(b.get()), 0) << lastLibvirtError();
    b.reset();
    const TrafficSample got = reader.read(conn.get(), {kUuidA, kUuidB});
    EXPECT_TRUE(got.contains(kUuidA));
    EXPECT_FALSE(got.contains(kUuidB));
}

TEST_F(TrafficReaderOnTheTestDriver, AnotherConnectionLooksTheDomainsUpAgain) {
    ASSERT_EQ(reader.read(conn.get(), {kUuidA}).size(), 1u);
    ConnectHandle other(virConnectOpen("test:///default"));
    ASSERT_TRUE(other) << lastLibvirtError();
    EXPECT_EQ(reader.read(other.get(), {kUuidA}).size(), 1u);
    reader.clear();
    EXPECT_EQ(reader.cachedDomains(), 0u);
}

TEST(LibvirtTraffic, NoConnectionIsARefusalWithItsReason) {
    TrafficReader reader;
    try {
        (void)reader.read(nullptr, {kUuidA});
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "not connected to libvirt");
    }
}

}  // namespace
}  // namespace vmpower

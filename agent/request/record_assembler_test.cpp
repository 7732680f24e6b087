#include "record_assembler.h"

#include <gtest/gtest.h>

#include <numeric>

namespace vmpower {
namespace {

std::vector<std::byte> numbered(std::size_t n) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(i % 251);
    return v;
}

struct Collector {
    std::vector<std::vector<std::byte>> records;
    std::function<void(std::span<const std::byte>)> fn() {
        return [this](std::span<const std::byte> r) { records.emplace_back(r.begin(), r.end()); };
    }
};

TEST(RecordAssembler, WholeRecord) {
    RecordAssembler a(464);
    Collector c;
    auto bytes = numbered(464);
    a.feed(bytes, c.fn());
    ASSERT_EQ(c.records.size(), 1U);
    EXPECT_EQ(c.records[0], bytes);
    EXPECT_EQ(a.pendingBytes(), 0U);
}

TEST(RecordAssembler, RecordSplitOverReads) {
    RecordAssembler a(464);
    Collector c;
    auto bytes = numbered(464);
    std::span<const std::byte> s(bytes);
    a.feed(s.first(100), c.fn());
    EXPECT_TRUE(c.records.empty());
    EXPECT_EQ(a.pendingBytes(), 100U);
    a.feed(s.subspan(100, 300), c.fn());
    EXPECT_TRUE(c.records.empty());
    a.feed(s.subspan(400), c.fn());
    ASSERT_EQ(c.records.size(), 1U);
    EXPECT_EQ(c.records[0], bytes);
}

TEST(RecordAssembler, OneByteAtATime) {
    RecordAssembler a(16);
    Collector c;
    auto bytes = numbered(48);
    for (auto b : bytes) a.feed(std::span<const std::byte>(&b, 1), c.fn());
    ASSERT_EQ(c.records.size(), 3U);
    EXPECT_EQ(c.records[2], std::vector<std::byte>(bytes.begin() + 32, bytes.end()));
}

TEST(RecordAssembler, ThreeRecordsInOneRead) {
    RecordAssembler a(464);
    Collector c;
    auto bytes = numbered(3 * 464);
    a.feed(bytes, c.fn());
    ASSERT_EQ(c.records.size(), 3U);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(c.records[i],
                  std::vector<std::byte>(bytes.begin() + static_cast<long>(i * 464),
                                         bytes.begin() + static_cast<long>((i + 1) * 464)));
    }
}

TEST(RecordAssembler, TailOfOneHeadOfNextInOneRead) {
    RecordAssembler a(464);
    Collector c;
    auto bytes = numbered(3 * 464);
    std::span<const std::byte> s(bytes);
    a.feed(s.first(200), c.fn());
    a.feed(s.subspan(200, 2 * 464), c.fn());  // rest of #1, all of #2, head of #3
    EXPECT_EQ(c.records.size(), 2U);
    EXPECT_EQ(a.pendingBytes(), 200U);
    a.feed(s.subspan(200 + 2 * 464), c.fn());
    ASSERT_EQ(c.records.size(), 3U);
    EXPECT_EQ(c.records[2], std::vector<std::byte>(bytes.begin() + 928, bytes.end()));
}

TEST(RecordAssembler, PartialRecordAtCloseIsDroppedOnReset) {
    RecordAssembler a(464);
    Collector c;
    auto bytes = numbered(464 + 10);
    a.feed(bytes, c.fn());
    EXPECT_EQ(c.records.size(), 1U);
    EXPECT_EQ(a.pendingBytes(), 10U);
    a.reset();  // the channel closed mid-record
    EXPECT_EQ(a.pendingBytes(), 0U);
    auto next = numbered(464);
    a.feed(next, c.fn());
    ASSERT_EQ(c.records.size(), 2U);
    EXPECT_EQ(c.records[1], next) << "the stale 10 bytes must not prefix the next record";
}

TEST(RecordAssembler, EmptyRead) {
    RecordAssembler a(464);
    Collector c;
    a.feed({}, c.fn());
    EXPECT_TRUE(c.records.empty());
    EXPECT_EQ(a.recordSize(), 464U);
}

}  // namespace
}  // namespace vmpower

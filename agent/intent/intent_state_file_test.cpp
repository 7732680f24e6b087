// The intent store on disk: written coalesced (a burst of changes is one
// write of the latest), read back at the next start, 0600; a corrupt or
// foreign file (or a link at its name) reported, renamed aside — never
// over an earlier one — and ignored; a file of an earlier boot restores
// nothing; the older host-policies.json carried in once and renamed aside.
#include "intent_state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "event_loop.h"
#include "temp_dir.h"

namespace vmpower {
namespace {

using namespace std::chrono_literals;
constexpr const char* kUuid = "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e";

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

StoredIntents oneVm(LevelPosition::Kind kind) {
    PowerIntent i;
    i.vcpus = {{0, LevelPosition{kind, 0, 0}, std::nullopt, std::nullopt}};
    return {{kUuid, {"vm1", {7, 99}, i, {}}}};
}

class IntentStore : public ::testing::Test {
  protected:
    std::unique_ptr<IntentStateFile> open(std::string boot = "boot-1") {
        return std::make_unique<IntentStateFile>(
            dir_.path(), std::move(boot), retries_,
            [this] {
                ++renders_;
                return now_;
            },
            50ms);
    }
    void turnFor(std::chrono::milliseconds d) {
        auto until = std::chrono::steady_clock::now() + d;
        EventLoop::Timer tick([] {});
        while (std::chrono::steady_clock::now() < until) {
            tick.arm(1ms);
            EventLoop::runOnce();
        }
    }
    std::vector<std::filesystem::path> aside(const std::string& prefix) const {
        std::vector<std::filesystem::path> out;
        for (const auto& e : std::filesystem::directory_iterator(dir_.path()))
            if (e.path().filename().string().starts_with(prefix)) out.push_back(e.path());
        return out;
    }
    std::filesystem::path file() const { return dir_.path() / "intents.json"; }

    test::TempDir dir_;
    SteadyClock clock_;
    RetryScheduler retries_{clock_};
    StoredIntents now_;
    int renders_ = 0;
};

TEST_F(IntentStore, WrittenCoalescedAndReadBackAtTheNextStart) {
    auto store = open();
    EXPECT_TRUE(store->load().empty());
    now_ = oneVm(LevelPosition::Kind::Min);
    for (int i = 0; i < 100; ++i) store->changed(kUuid);
    now_ = oneVm(LevelPosition::Kind::Max);  // the latest is what is written
    turnFor(150ms);
    EXPECT_EQ(store->writes(), 1u);
    EXPECT_EQ(renders_, 1);
    struct stat st {};
    ASSERT_EQ(::stat(file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    store.reset();
    EXPECT_EQ(open()->load(), oneVm(LevelPosition::Kind::Max));
}

TEST_F(IntentStore, AStopWritesWhatIsPendingAndNothingAfter) {
    auto store = open();
    store->load();
    now_ = oneVm(LevelPosition::Kind::Max);
    store->changed(kUuid);
    store->keepAsIs();
    EXPECT_EQ(store->writes(), 1u);
    now_.clear();  // the domains let go of at the stop
    store->changed(kUuid);
    turnFor(100ms);
    EXPECT_EQ(store->writes(), 1u);
    EXPECT_EQ(open()->load(), oneVm(LevelPosition::Kind::Max));
}

TEST_F(IntentStore, ACorruptOrForeignFileIsSetAsideNeverOverwrittenAndIgnored) {
    std::ofstream(file()) << "{ not json";
    EXPECT_TRUE(open()->load().empty());
    EXPECT_FALSE(std::filesystem::exists(file()));
    ASSERT_EQ(aside("intents.json.corrupt-").size(), 1u);
    std::ofstream(file()) << R"({"format": "someone-elses", "version": 1})";
    EXPECT_TRUE(open()->load().empty());
    auto both = aside("intents.json.corrupt-");
    ASSERT_EQ(both.size(), 2u);  // the first one kept
    std::set<std::string> texts{slurp(both[0]), slurp(both[1])};
    EXPECT_TRUE(texts.contains("{ not json"));
}

TEST_F(IntentStore, ALinkAtTheNameIsSetAsideNotFollowed) {
    const auto target = dir_.path() / "elsewhere.json";
    std::ofstream(target) << intentFileText({"boot-1", oneVm(LevelPosition::Kind::Max)});
    ASSERT_EQ(::symlink(target.c_str(), file().c_str()), 0);
    EXPECT_TRUE(open()->load().empty());
    EXPECT_EQ(aside("intents.json.corrupt-").size(), 1u);
    EXPECT_TRUE(std::filesystem::exists(target));
}

TEST_F(IntentStore, AFileOfAnEarlierBootRestoresNothing) {
    std::ofstream(file()) << intentFileText({"boot-0", oneVm(LevelPosition::Kind::Max)});
    EXPECT_TRUE(open("boot-1")->load().empty());
}

TEST_F(IntentStore, TheOlderHostPoliciesFileIsCarriedInOnceAndRenamedAside) {
    std::ofstream(dir_.path() / "host-policies.json") << R"({"version": 1, "domains": {
      "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e": {"name": "vm1", "domain_id": 7, "set_by": "guest",
         "policy": {"type": "workload", "vcpus": "0", "workload": "high"}}}})";
    StoredIntents first = open()->load();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_TRUE(first.at(kUuid).intent.host_policy);
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "host-policies.json"));
    EXPECT_TRUE(std::filesystem::exists(dir_.path() / "host-policies.json.migrated"));
    // The next start reads it from the one store.
    EXPECT_EQ(open()->load(), first);
}

}  // namespace
}  // namespace vmpower

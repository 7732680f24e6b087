#include "host_policy.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace vmpower {
namespace {

std::string errorOf(const HostPolicyFields& f) {
    try {
        hostPolicyFromFields(f);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(HostPolicyFields, ReadWithSpacesRangesAndAnyOrderWrittenCanonically) {
    HostPolicy p = hostPolicyFromFields({{"type", "time"},
                                         {"vcpus", "3, 0-1"},
                                         {"busy_hours", "9-11,20"},
                                         {"traffic_hours", "18"},
                                         {"max_pps", "70"},
                                         {"macs", "52:54:00:12:34:56, 52:54:00:12:34:56"},
                                         {"workload", "high"}});
    EXPECT_EQ(p.vcpus, (std::vector<unsigned>{0, 1, 3}));
    EXPECT_EQ(p.busy_hours.count(), 4u);
    EXPECT_EQ(p.workload, Workload::Low) << "a TIME policy has no workload";
    EXPECT_EQ(p.macs.size(), 1u);
    const HostPolicyFields written = hostPolicyFields(p);
    EXPECT_EQ(written, (HostPolicyFields{{"type", "time"},
                                         {"vcpus", "0-1,3"},
                                         {"busy_hours", "9-11,20"},
                                         {"traffic_hours", "18"},
                                         {"min_pps", "0"},
                                         {"middle_pps", "0"},
                                         {"max_pps", "70"},
                                         {"macs", "52:54:00:12:34:56"}}));
    EXPECT_EQ(hostPolicyFromFields(written), p);
}

TEST(HostPolicyFields, EachTypeRoundTrips) {
    for (const char* type : {"traffic", "time", "workload", "branch_ratio"}) {
        HostPolicy p = hostPolicyFromFields({{"type", type}, {"vcpus", "0"}, {"workload", "medium"}});
        EXPECT_EQ(hostPolicyFromFields(hostPolicyFields(p)), p) << type;
    }
}

TEST(HostPolicyFields, BadFieldsNameTheField) {
    const std::pair<HostPolicyFields, std::string> bad[] = {
        {{{"vcpus", "0"}}, "'type' is required"},
        {{{"type", "time"}}, "'vcpus' is required"},
        {{{"type", "time"}, {"vcpus", ""}}, "'vcpus' names no vCPU"},
        {{{"type", "time"}, {"vcpus", "1-0"}}, "'vcpus' has the range \"1-0\" backwards"},
        {{{"type", "time"}, {"vcpus", "0,1,0-1"}}, "'vcpus' names vCPU 0 twice"},
        {{{"type", "time"}, {"vcpus", "256"}}, "'vcpus' must be a number from 0 to 255"},
        {{{"type", "time"}, {"vcpus", "-1"}}, "'vcpus' must be a number from 0 to 255"},
        {{{"type", "time"}, {"vcpus", "0"}, {"quiet_hours", "23-24"}},
         "'quiet_hours' must be a number from 0 to 23"},
        {{{"type", "traffic"}, {"vcpus", "0"}, {"max_pps", "4294967296"}},
         "'max_pps' must be a number from 0 to 4294967295"},
        {{{"type", "traffic"}, {"vcpus", "0"}, {"middle_pps", "2"}, {"max_pps", "1"}},
         "'middle_pps' is above 'max_pps'"},
        {{{"type", "traffic"}, {"vcpus", "0"}, {"macs", "52:54:00:12:34"}},
         "'macs' holds \"52:54:00:12:34\", not a MAC address"},
        {{{"type", "traffic"}, {"vcpus", "0"}, {"macs", std::string(100, 'x')}},
         "'macs' holds a value, not a MAC address"},
        {{{"type", "workload"}, {"vcpus", "0"}, {"workload", "HIGH"}},
         "'workload' must be one of high, medium, low"},
        {{{"type", "workload"}, {"vcpus", "0"}, {"speed", "1"}},
         "\"speed\" is not a policy field (known: type, vcpus, workload, busy_hours, quiet_hours, "
         "traffic_hours, min_pps, middle_pps, max_pps, macs)"},
    };
    for (const auto& [fields, why] : bad) EXPECT_EQ(errorOf(fields), why);
}

}  // namespace
}  // namespace vmpower

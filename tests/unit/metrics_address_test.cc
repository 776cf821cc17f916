// --metrics-addr: loopback unless a non-loopback host is named, and then a
// warning; bad input refused with one line naming the flag.
#include "collectors/prometheus/metrics_address.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace pyhang::collectors {
namespace {

TEST(MetricsAddressTest, APortAloneIsLoopback) {
  for (const char* flag : {"9464", ":9464", "localhost:9464", "LOCALHOST:9464"}) {
    absl::StatusOr<MetricsAddress> address = ParseMetricsAddress(flag);
    ASSERT_TRUE(address.ok()) << flag << ": " << address.status();
    EXPECT_EQ(address->listen, "127.0.0.1:9464") << flag;
    EXPECT_EQ(address->port, 9464) << flag;
    EXPECT_TRUE(address->loopback) << flag;
    EXPECT_EQ(ExposureWarning(*address), "") << flag;
  }
}

TEST(MetricsAddressTest, LoopbackAddressesAreLocal) {
  for (const char* flag : {"127.0.0.1:0", "127.1.2.3:80", "[::1]:9464", "[::ffff:127.0.0.1]:9464"}) {
    absl::StatusOr<MetricsAddress> address = ParseMetricsAddress(flag);
    ASSERT_TRUE(address.ok()) << flag << ": " << address.status();
    EXPECT_TRUE(address->loopback) << flag;
    EXPECT_EQ(address->listen, flag) << flag;
  }
}

TEST(MetricsAddressTest, OtherAddressesWarnInOneLine) {
  for (const char* flag : {"0.0.0.0:9464", "10.1.2.3:9464", "[::]:9464", "[2001:db8::1]:1"}) {
    absl::StatusOr<MetricsAddress> address = ParseMetricsAddress(flag);
    ASSERT_TRUE(address.ok()) << flag << ": " << address.status();
    EXPECT_FALSE(address->loopback) << flag;
    EXPECT_EQ(address->listen, flag);
    std::string warning = ExposureWarning(*address);
    EXPECT_TRUE(absl::StrContains(warning, flag)) << warning;
    EXPECT_FALSE(absl::StrContains(warning, "\n")) << warning;
  }
}

TEST(MetricsAddressTest, BadInputIsRefused) {
  for (const char* flag : {"", ":", "abc", "9464x", "65536", "-1", "127.0.0.1:", "example.com:9464",
                           "::1:9464", "[::1:9464", "1.2.3:9464", "127.0.0.1:99999999999999999999"}) {
    absl::StatusOr<MetricsAddress> address = ParseMetricsAddress(flag);
    ASSERT_FALSE(address.ok()) << flag << " -> " << address->listen;
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(address.status().message(), "--metrics-addr ")) << address.status();
    EXPECT_FALSE(absl::StrContains(address.status().message(), "\n"));
  }
}

}  // namespace
}  // namespace pyhang::collectors

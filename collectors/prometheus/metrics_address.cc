#include "collectors/prometheus/metrics_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pyhang::collectors {
namespace {

absl::Status Bad(absl::string_view flag, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--metrics-addr ", flag, ": ", why, " (expected PORT, HOST:PORT or [IPv6]:PORT)"));
}

// Whether a numeric address (IPv4, or IPv6 without brackets) is loopback;
// false with *valid = false when it is not an address.
bool IsLoopback(const std::string& host, bool* valid) {
  in_addr v4;
  in6_addr v6;
  *valid = true;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // ::ffff:127.x.y.z
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  *valid = false;
  return false;
}

}  // namespace

absl::StatusOr<MetricsAddress> ParseMetricsAddress(absl::string_view flag) {
  absl::string_view host = "", port = flag;
  size_t colon = flag.rfind(':');
  if (colon != absl::string_view::npos) {
    host = flag.substr(0, colon);
    port = flag.substr(colon + 1);
  }
  int number = 0;
  if (port.empty() || !absl::c_all_of(port, absl::ascii_isdigit) || !absl::SimpleAtoi(port, &number) ||
      number > 65535) {
    return Bad(flag, "not a port number");
  }
  MetricsAddress address;
  address.port = number;
  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  std::string bare(bracketed ? host.substr(1, host.size() - 2) : host);
  if (bare.empty() || absl::AsciiStrToLower(bare) == "localhost") bare = "127.0.0.1";
  bool valid = false;
  address.loopback = IsLoopback(bare, &valid);
  if (!valid) return Bad(flag, absl::StrCat("'", host, "' is not a numeric address (or localhost)"));
  bool v6 = bare.find(':') != std::string::npos;
  if (v6 && !bracketed) return Bad(flag, "an IPv6 address needs brackets");
  address.host = v6 ? absl::StrCat("[", bare, "]") : bare;
  address.listen = absl::StrCat(address.host, ":", address.port);
  return address;
}

std::string ExposureWarning(const MetricsAddress& address) {
  if (address.loopback) return "";
  return absl::StrCat("metrics on ", address.listen,
                      " are served to every host that can reach this one, not only to this machine "
                      "(give a loopback address, or PORT alone, to keep them local)");
}

}  // namespace pyhang::collectors

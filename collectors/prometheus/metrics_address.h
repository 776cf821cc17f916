// Where `--metrics-addr` listens. Metrics name a process, its Python
// version and its hangs, which not everyone who can reach the host should
// read: "PORT" and ":PORT" mean loopback (127.0.0.1), and a host that is not
// loopback (0.0.0.0, [::], an interface's address) is served as asked but
// with a one-line warning (ExposureWarning).
#ifndef PYHANG_COLLECTORS_PROMETHEUS_METRICS_ADDRESS_H_
#define PYHANG_COLLECTORS_PROMETHEUS_METRICS_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pyhang::collectors {

struct MetricsAddress {
  std::string listen;  // for prometheus::Exposer: "127.0.0.1:9464", "[::1]:9464"
  std::string host;    // "127.0.0.1", "[::1]", "0.0.0.0"
  int port = 0;        // 0: any free port
  bool loopback = true;
};

// "9464", ":9464", "localhost:9464", "127.0.0.1:9464", "0.0.0.0:9464",
// "[::1]:9464", "[::]:0". Host names other than localhost are refused (the
// HTTP server binds numeric addresses only); so are bad ports.
absl::StatusOr<MetricsAddress> ParseMetricsAddress(absl::string_view flag);

// The warning line for a non-loopback address, empty for loopback.
std::string ExposureWarning(const MetricsAddress& address);

}  // namespace pyhang::collectors

#endif  // PYHANG_COLLECTORS_PROMETHEUS_METRICS_ADDRESS_H_

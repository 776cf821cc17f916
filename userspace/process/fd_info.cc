#include "userspace/process/fd_info.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "userspace/common/file_util.h"

namespace pyhang::process {
namespace {

// /proc/net/tcp address "0100007F:1F90" or the 32-hex-digit IPv6 form.
std::string FormatAddress(absl::string_view text) {
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(text, ':');
  uint32_t port = 0;
  if (!absl::SimpleHexAtoi(parts.second, &port)) return std::string(text);
  char buffer[INET6_ADDRSTRLEN] = {0};
  if (parts.first.size() == 8) {
    uint32_t word = 0;
    if (!absl::SimpleHexAtoi(parts.first, &word)) return std::string(text);
    struct in_addr address;
    address.s_addr = word;  // the kernel prints the in-memory (network-order) word as host int
    inet_ntop(AF_INET, &address, buffer, sizeof(buffer));
    return absl::StrCat(buffer, ":", port);
  }
  if (parts.first.size() == 32) {
    struct in6_addr address;
    for (int i = 0; i < 4; ++i) {
      uint32_t word = 0;
      if (!absl::SimpleHexAtoi(parts.first.substr(i * 8, 8), &word)) return std::string(text);
      std::memcpy(&address.s6_addr[i * 4], &word, 4);
    }
    inet_ntop(AF_INET6, &address, buffer, sizeof(buffer));
    return absl::StrCat("[", buffer, "]:", port);
  }
  return std::string(text);
}

absl::string_view TcpState(absl::string_view hex) {
  static constexpr const char* kStates[] = {"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
                                            "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
                                            "LAST_ACK", "LISTEN", "CLOSING"};
  uint32_t state = 0;
  if (!absl::SimpleHexAtoi(hex, &state) || state >= sizeof(kStates) / sizeof(kStates[0])) return "";
  return kStates[state];
}

}  // namespace

std::string DescribeInetSocket(absl::string_view table, absl::string_view protocol, uint64_t inode) {
  for (absl::string_view line : absl::StrSplit(table, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    uint64_t line_inode = 0;
    if (fields.size() < 10 || !absl::SimpleAtoi(fields[9], &line_inode) || line_inode != inode) continue;
    std::string text = absl::StrCat(protocol, " ", FormatAddress(fields[1]), " -> ", FormatAddress(fields[2]));
    if (protocol == "TCP") absl::StrAppend(&text, " (", TcpState(fields[3]), ")");
    return text;
  }
  return "";
}

std::string DescribeFd(pid_t pid, int fd) {
  absl::StatusOr<std::string> target = ReadLink(absl::StrCat("/proc/", pid, "/fd/", fd));
  if (!target.ok()) return "";
  absl::string_view link = *target;
  if (!absl::ConsumePrefix(&link, "socket:[")) {
    if (absl::StartsWith(link, "pipe:")) return "pipe";
    return std::string(link);
  }
  absl::ConsumeSuffix(&link, "]");
  uint64_t inode = 0;
  if (!absl::SimpleAtoi(link, &inode)) return std::string(*target);
  for (auto [file, protocol] : {std::pair{"tcp", "TCP"}, {"tcp6", "TCP"}, {"udp", "UDP"}, {"udp6", "UDP"}}) {
    absl::StatusOr<std::string> table = ReadFileToString(absl::StrCat("/proc/", pid, "/net/", file), 8 << 20);
    if (!table.ok()) continue;
    std::string description = DescribeInetSocket(*table, protocol, inode);
    if (!description.empty()) return description;
  }
  return absl::StrCat("socket (inode ", inode, ")");
}

}  // namespace pyhang::process

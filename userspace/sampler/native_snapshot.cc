#include "userspace/sampler/native_snapshot.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "bpf/native_snapshot.skel.h"
#include "bpf/pyhang_abi.h"
#include "userspace/common/unique_fd.h"
#include "absl/container/flat_hash_map.h"
#include "userspace/sampler/libbpf_util.h"
#include "userspace/sampler/perf_events.h"

namespace pyhang::sampler {
namespace {

struct SkeletonDeleter {
  void operator()(native_snapshot_bpf* skeleton) const { native_snapshot_bpf__destroy(skeleton); }
};

constexpr size_t kMaxOutput = 64 << 20;  // 2,000+ threads' worth
constexpr uint64_t kSamplePeriodNs = 200'000;  // of the thread's CPU time
constexpr int kRunningBudgetMs = 100;

}  // namespace

std::vector<target::StackCopy> ParseNativeRecords(absl::string_view bytes) {
  std::vector<target::StackCopy> copies;
  while (bytes.size() >= sizeof(pyhang_native_record)) {
    pyhang_native_record record;
    std::memcpy(&record, bytes.data(), sizeof(record));
    if (record.magic != PYHANG_NATIVE_MAGIC || record.stack_size > PYHANG_NATIVE_STACK_MAX ||
        bytes.size() - sizeof(record) < record.stack_size) {
      break;
    }
    bytes.remove_prefix(sizeof(record));
    if (!(record.flags & PYHANG_NATIVE_NO_REGS)) {
      target::StackCopy copy;
      copy.tid = record.tid;
      copy.on_cpu = record.flags & PYHANG_NATIVE_ON_CPU;
      static_assert(sizeof(record.regs) == sizeof(process::Registers));
      std::memcpy(&copy.registers, record.regs, sizeof(record.regs));
      copy.stack = std::string(bytes.substr(0, record.stack_size));
      copies.push_back(std::move(copy));
    }
    bytes.remove_prefix(record.stack_size);
  }
  return copies;
}

namespace {

using Skeleton = std::unique_ptr<native_snapshot_bpf, SkeletonDeleter>;

// One pass of the task iterator over the target's threads.
absl::StatusOr<std::vector<target::StackCopy>> IterateThreads(bpf_link* link) {
  UniqueFd iterator(bpf_iter_create(bpf_link__fd(link)));
  if (!iterator.valid()) return ErrnoStatus(errno, "native stacks need BPF: creating the task iterator failed");
  std::string output;
  char buffer[1 << 16];
  while (output.size() < kMaxOutput) {
    ssize_t n = ::read(iterator.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "reading the native stack snapshot");
    if (n == 0) break;
    output.append(buffer, static_cast<size_t>(n));
  }
  return ParseNativeRecords(output);
}

int CollectSample(void* context, void* data, size_t size) {
  auto* samples = static_cast<std::vector<target::StackCopy>*>(context);
  for (target::StackCopy& copy : ParseNativeRecords(absl::string_view(static_cast<const char*>(data), size))) {
    samples->push_back(std::move(copy));
  }
  return 0;
}

// Threads that were running: their next CPU-clock tick copies them (once
// each) from the sample's own registers. Returns the copies it got within
// `budget_ms`; threads that stopped running meanwhile are not among them.
std::vector<target::StackCopy> SampleRunningThreads(native_snapshot_bpf* skeleton,
                                                    const std::vector<int64_t>& tids, int budget_ms) {
  std::vector<target::StackCopy> samples;
  std::vector<UniqueBpfLink> links;
  std::vector<UniqueFd> events;
  const __u8 yes = 1;
  for (int64_t tid : tids) {
    __u32 key = static_cast<__u32>(tid);
    if (bpf_map__update_elem(skeleton->maps.native_wanted, &key, sizeof(key), &yes, sizeof(yes), BPF_ANY) != 0) continue;
    absl::StatusOr<UniqueFd> event = OpenThreadClockEvent(static_cast<pid_t>(tid), kSamplePeriodNs);
    if (!event.ok()) continue;
    bpf_link* link = bpf_program__attach_perf_event(skeleton->progs.native_sample, event->get());
    if (link == nullptr) continue;
    links.emplace_back(link);
    events.push_back(*std::move(event));
  }
  if (links.empty()) return samples;
  UniqueRingBuffer ring(ring_buffer__new(bpf_map__fd(skeleton->maps.native_samples), CollectSample, &samples, nullptr));
  if (!ring) return samples;
  for (int waited = 0; waited < budget_ms && samples.size() < links.size(); waited += 5) {
    ring_buffer__poll(ring.get(), 5);
  }
  ring_buffer__consume(ring.get());
  return samples;
}

}  // namespace

absl::StatusOr<std::vector<target::StackCopy>> CopyNativeStacks(pid_t pid, size_t stack_bytes) {
  InstallLibbpfLogger();
  LibbpfLogCapture log;
  Skeleton skeleton(native_snapshot_bpf__open());
  if (!skeleton) return ErrnoStatus(errno, "native stacks need BPF: cannot open the BPF program");
  skeleton->rodata->cfg_tgid = static_cast<__u32>(pid);
  skeleton->rodata->cfg_stack_bytes = static_cast<__u32>(std::min<size_t>(stack_bytes, PYHANG_NATIVE_STACK_MAX));
  if (int error = native_snapshot_bpf__load(skeleton.get()); error != 0) {
    std::string why = log.LastError();
    return ErrnoStatus(error, absl::StrCat("native stacks need BPF: loading the task iterator failed",
                                           why.empty() ? "" : absl::StrCat(" (", why, ")")));
  }
  // Only the target's threads are visited (the iterator's pid filter).
  union bpf_iter_link_info link_info;
  std::memset(&link_info, 0, sizeof(link_info));
  link_info.task.pid = static_cast<__u32>(pid);
  DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, options, .link_info = &link_info,
                      .link_info_len = sizeof(link_info));
  UniqueBpfLink link(bpf_program__attach_iter(skeleton->progs.native_snapshot, &options));
  if (!link) return ErrnoStatus(errno, "native stacks need BPF: attaching the task iterator failed");
  absl::StatusOr<std::vector<target::StackCopy>> copies = IterateThreads(link.get());
  if (!copies.ok()) return copies;
  std::vector<int64_t> running;
  for (const target::StackCopy& copy : *copies) {
    if (copy.on_cpu) running.push_back(copy.tid);
  }
  if (running.empty()) return copies;
  std::vector<target::StackCopy> sampled = SampleRunningThreads(skeleton.get(), running, kRunningBudgetMs);
  // A thread that went to sleep before its tick: its saved registers are
  // good now; one more pass of the iterator finds them.
  absl::flat_hash_map<int64_t, target::StackCopy> found;
  for (target::StackCopy& copy : sampled) found.emplace(copy.tid, std::move(copy));
  if (found.size() < running.size()) {
    absl::StatusOr<std::vector<target::StackCopy>> again = IterateThreads(link.get());
    if (again.ok()) {
      for (target::StackCopy& copy : *again) {
        if (!copy.on_cpu) found.emplace(copy.tid, std::move(copy));
      }
    }
  }
  for (target::StackCopy& copy : *copies) {
    if (!copy.on_cpu) continue;
    if (auto it = found.find(copy.tid); it != found.end()) copy = std::move(it->second);
  }
  return copies;
}

}  // namespace pyhang::sampler

#include "userspace/sampler/bpf_sampler.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "bpf/pyhang.skel.h"
#include "userspace/common/log.h"
#include "userspace/common/status_macros.h"
#include "userspace/sampler/perf_events.h"

namespace pyhang::sampler {
namespace {

constexpr uint32_t kMinFrequency = 1;
constexpr uint32_t kMaxFrequency = 10000;
constexpr size_t kKernelStackDepth = 127;  // value size of pyhang_kernel_stacks
constexpr size_t kMaxKeyWalkSteps = 1 << 20;

// Every key of a BPF hash map keyed by u32, each once. When BPF deletes the
// previous key during the walk (a thread exits), the kernel restarts from
// the first bucket: keys already seen are skipped instead of returned twice,
// and the walk is bounded.
std::vector<uint32_t> MapKeys(int fd) {
  std::vector<uint32_t> keys;
  absl::flat_hash_set<uint32_t> seen;
  uint32_t previous = 0;
  uint32_t key = 0;
  for (size_t step = 0; step < kMaxKeyWalkSteps; ++step) {
    if (bpf_map_get_next_key(fd, step == 0 ? nullptr : &previous, &key) != 0) break;
    if (seen.insert(key).second) keys.push_back(key);
    previous = key;
  }
  return keys;
}

absl::Status ValidateOptions(const SamplerOptions& options) {
  if (options.frequency_hz < kMinFrequency || options.frequency_hz > kMaxFrequency) {
    return absl::InvalidArgumentError(absl::StrCat("sampling frequency ", options.frequency_hz,
                                                   " Hz is outside 1-10000 Hz"));
  }
  uint32_t ring = options.ring_buffer_bytes;
  if (ring < static_cast<uint32_t>(getpagesize()) || (ring & (ring - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ring buffer size ", ring, " is not a power of two >= the page size"));
  }
  if (options.max_processes == 0 || options.max_threads == 0 ||
      options.kernel_stack_entries == 0) {
    return absl::InvalidArgumentError("map sizes must be positive");
  }
  return absl::OkStatus();
}

absl::Status CheckConfig(const pyhang_proc_config& config) {
  if (config.frame_read_size == 0 || config.frame_read_size > PYHANG_FRAME_READ_MAX) {
    return absl::InvalidArgumentError("process config has no frame copy plan (PlanFrameCopy)");
  }
  if (config.offsets.frame_code < 0 || config.offsets.frame_previous < 0 ||
      config.offsets.tstate_frame < 0 || config.offsets.tstate_thread_id < 0) {
    return absl::InvalidArgumentError("process config lacks frame or thread-state offsets");
  }
  return absl::OkStatus();
}

absl::Status SetMapSize(bpf_map* map, uint32_t entries) {
  int error = bpf_map__set_max_entries(map, entries);
  if (error != 0) return ErrnoStatus(error, absl::StrCat("sizing map ", bpf_map__name(map)));
  return absl::OkStatus();
}

}  // namespace

void BpfSampler::SkeletonDeleter::operator()(pyhang_bpf* skeleton) const {
  pyhang_bpf__destroy(skeleton);
}

absl::StatusOr<std::unique_ptr<BpfSampler>> BpfSampler::Create(const SamplerOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  ASSIGN_OR_RETURN(BpfFeatures features, ProbeBpfFeatures());
  std::unique_ptr<BpfSampler> sampler(new BpfSampler(options, features));
  RETURN_IF_ERROR(sampler->Load());
  RETURN_IF_ERROR(sampler->AttachTracepoints());
  if (options.on_cpu) RETURN_IF_ERROR(sampler->AttachPerfEvents());
  RETURN_IF_ERROR(sampler->OpenRingBuffer());
  if (options.collect_run_stats) {
    int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (fd < 0) {
      LOG_WARNING("cannot enable BPF run-time statistics: ", std::strerror(errno));
    } else {
      sampler->stats_fd_.Reset(fd);
    }
  }
  LOG_DEBUG("BPF sampler ready: ", sampler->features_.ToString(), ", ",
            sampler->perf_fds_.size(), " perf events at ", options.frequency_hz, " Hz");
  return sampler;
}

BpfSampler::~BpfSampler() = default;

absl::Status BpfSampler::Load() {
  skeleton_.reset(pyhang_bpf__open());
  if (!skeleton_) {
    return BpfUnavailable(ErrnoStatus(errno, "cannot open pyhang's BPF object"));
  }
  pyhang_bpf& s = *skeleton_;
  s.rodata->cfg_use_bpf_loop = features_.bpf_loop && !options_.force_bounded_loop;
  s.rodata->cfg_kernel_stacks = options_.kernel_stacks;
  s.rodata->cfg_offcpu_stacks = options_.offcpu_python_stacks;
  s.rodata->cfg_offcpu_min_ns = options_.offcpu_min_ns;
  s.rodata->cfg_wakeup_bytes = options_.ring_buffer_bytes / 4;
  s.rodata->cfg_native_stack_bytes = std::min<uint32_t>(options_.native_stack_bytes, PYHANG_NATIVE_STACK_MAX);

  RETURN_IF_ERROR(SetMapSize(s.maps.pyhang_procs, options_.max_processes));
  RETURN_IF_ERROR(SetMapSize(s.maps.pyhang_offcpu, options_.off_cpu ? options_.max_threads : 1));
  RETURN_IF_ERROR(SetMapSize(s.maps.pyhang_kernel_stacks,
                             options_.kernel_stacks ? options_.kernel_stack_entries : 1));
  RETURN_IF_ERROR(SetMapSize(s.maps.pyhang_events, options_.ring_buffer_bytes));

  bool btf = features_.btf_tracepoints && !options_.force_raw_tracepoints;
  bpf_program__set_autoload(s.progs.pyhang_on_cpu, options_.on_cpu);
  bpf_program__set_autoload(s.progs.pyhang_sched_switch_btf, options_.off_cpu && btf);
  bpf_program__set_autoload(s.progs.pyhang_sched_switch_raw, options_.off_cpu && !btf);
  bpf_program__set_autoload(s.progs.pyhang_exit_btf, btf);
  bpf_program__set_autoload(s.progs.pyhang_exit_raw, !btf);
  bpf_program__set_autoload(s.progs.pyhang_exec_btf, btf);
  bpf_program__set_autoload(s.progs.pyhang_exec_raw, !btf);

  LibbpfLogCapture capture;  // a verifier log is for --verbose, not the user
  int error = pyhang_bpf__load(&s);
  if (error != 0) {
    LOG_DEBUG("libbpf while loading:\n", capture.text());
    std::string detail = capture.LastError();
    return BpfUnavailable(ErrnoStatus(
        error, absl::StrCat("the kernel rejected pyhang's BPF programs",
                            detail.empty() ? "" : absl::StrCat(" (", detail, ")"))));
  }
  return absl::OkStatus();
}

absl::Status BpfSampler::AttachTracepoints() {
  pyhang_bpf& s = *skeleton_;
  for (bpf_program* program :
       {s.progs.pyhang_sched_switch_btf, s.progs.pyhang_sched_switch_raw,
        s.progs.pyhang_exit_btf, s.progs.pyhang_exit_raw, s.progs.pyhang_exec_btf,
        s.progs.pyhang_exec_raw}) {
    if (!bpf_program__autoload(program)) continue;
    bpf_link* link = bpf_program__attach(program);
    if (link == nullptr) {
      return BpfUnavailable(
          ErrnoStatus(errno, absl::StrCat("attaching ", bpf_program__name(program))));
    }
    links_.emplace_back(link);
  }
  return absl::OkStatus();
}

absl::Status BpfSampler::AttachPerfEvents() {
  ASSIGN_OR_RETURN(std::vector<int> cpus, OnlineCpus());
  for (int cpu : cpus) {
    absl::StatusOr<UniqueFd> event = OpenCpuClockEvent(cpu, options_.frequency_hz);
    if (!event.ok()) {
      if (event.status().code() == absl::StatusCode::kPermissionDenied) {
        return absl::PermissionDeniedError(absl::StrCat(
            "BPF unavailable: ", event.status().message(),
            " (root or CAP_PERFMON is needed; see kernel.perf_event_paranoid)"));
      }
      LOG_WARNING("not sampling CPU ", cpu, ": ", event.status().message());
      continue;
    }
    // The link owns (and closes) the descriptor it is given: give it a
    // duplicate so ownership stays simple on both sides.
    int link_fd = fcntl(event->get(), F_DUPFD_CLOEXEC, 0);
    if (link_fd < 0) return ErrnoStatus(errno, "dup(perf event)");
    bpf_link* link = bpf_program__attach_perf_event(skeleton_->progs.pyhang_on_cpu, link_fd);
    if (link == nullptr) {
      int error = errno;
      close(link_fd);
      return BpfUnavailable(
          ErrnoStatus(error, absl::StrCat("attaching the sampler to CPU ", cpu)));
    }
    links_.emplace_back(link);
    perf_fds_.push_back(*std::move(event));
  }
  if (perf_fds_.empty()) return absl::UnavailableError("BPF unavailable: no CPU can be sampled");
  return absl::OkStatus();
}

absl::Status BpfSampler::OpenRingBuffer() {
  ring_.reset(ring_buffer__new(bpf_map__fd(skeleton_->maps.pyhang_events), &BpfSampler::OnRecord,
                               this, nullptr));
  if (!ring_) return ErrnoStatus(errno, "opening the BPF ring buffer");
  return absl::OkStatus();
}

int BpfSampler::OnRecord(void* context, void* data, size_t size) {
  auto* self = static_cast<BpfSampler*>(context);
  absl::StatusOr<Event> event =
      DecodeEvent(absl::MakeConstSpan(static_cast<const uint8_t*>(data), size));
  if (!event.ok()) {
    ++self->malformed_events_;
    LOG_DEBUG("dropping BPF event: ", event.status().message());
    return 0;
  }
  if (const auto* exit = std::get_if<ThreadExit>(&*event); exit && exit->process_exited) {
    self->targets_.erase(static_cast<pid_t>(exit->pid));
  }
  ++self->delivered_;
  if (self->callback_ != nullptr) (*self->callback_)(*event);
  return 0;
}

void BpfSampler::JitterPeriods() {
  if (jitter_failed_) return;
  for (const UniqueFd& fd : perf_fds_) {
    absl::Status set = SetEventPeriod(fd.get(), JitteredPeriodNs(options_.frequency_hz, random_()));
    if (!set.ok()) {
      // Sampling goes on at the fixed period: only less protected from aliasing.
      LOG_DEBUG("keeping a fixed sampling period: ", set.message());
      jitter_failed_ = true;
      return;
    }
  }
}

absl::StatusOr<size_t> BpfSampler::Poll(absl::Duration timeout,
                                        absl::FunctionRef<void(const Event&)> callback) {
  JitterPeriods();
  callback_ = &callback;
  delivered_ = 0;
  int64_t milliseconds = absl::ToInt64Milliseconds(timeout);
  // BPF wakes us only when the buffer fills up (see emit() in pyhang.bpf.c),
  // so wait out the timeout, then take whatever is queued.
  int result = ring_buffer__poll(ring_.get(), static_cast<int>(std::clamp<int64_t>(
                                                  milliseconds, 0, INT32_MAX)));
  if (result >= 0 || result == -EINTR) result = ring_buffer__consume(ring_.get());
  callback_ = nullptr;
  if (result < 0 && result != -EINTR) return ErrnoStatus(result, "reading the BPF ring buffer");
  return delivered_;
}

absl::Status BpfSampler::AddTarget(pid_t pid, const pyhang_proc_config& config) {
  RETURN_IF_ERROR(CheckConfig(config));
  uint32_t key = static_cast<uint32_t>(pid);
  if (bpf_map_update_elem(bpf_map__fd(skeleton_->maps.pyhang_procs), &key, &config, BPF_ANY) != 0) {
    if (errno == E2BIG) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot sample more than ", options_.max_processes, " processes at once"));
    }
    return ErrnoStatus(errno, absl::StrCat("adding process ", pid, " to the BPF sampler"));
  }
  targets_.insert(pid);
  return absl::OkStatus();
}

absl::Status BpfSampler::RemoveTarget(pid_t pid) {
  uint32_t key = static_cast<uint32_t>(pid);
  targets_.erase(pid);
  if (bpf_map_delete_elem(bpf_map__fd(skeleton_->maps.pyhang_procs), &key) != 0 &&
      errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("removing process ", pid, " from the BPF sampler"));
  }
  // Drop its threads' off-CPU state (sched_process_exit does this for
  // threads that exit; these are threads that live on).
  int fd = bpf_map__fd(skeleton_->maps.pyhang_offcpu);
  auto value = std::make_unique<pyhang_offcpu_event>();
  for (uint32_t tid : MapKeys(fd)) {
    if (bpf_map_lookup_elem(fd, &tid, value.get()) == 0 && value->pid == key) bpf_map_delete_elem(fd, &tid);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<OffCpuEvent>> BpfSampler::BlockedThreads() {
  int fd = bpf_map__fd(skeleton_->maps.pyhang_offcpu);
  auto value = std::make_unique<pyhang_offcpu_event>();
  std::vector<OffCpuEvent> blocked;
  for (uint32_t tid : MapKeys(fd)) {
    if (bpf_map_lookup_elem(fd, &tid, value.get()) != 0) continue;  // exited meanwhile
    if (value->start_ns == 0 || value->end_ns != 0) continue;
    if (!targets_.contains(static_cast<pid_t>(value->pid))) continue;
    blocked.push_back(DecodeOffCpu(*value));
  }
  return blocked;
}

absl::StatusOr<size_t> BpfSampler::TrackedThreads() {
  return MapKeys(bpf_map__fd(skeleton_->maps.pyhang_offcpu)).size();
}

absl::StatusOr<std::vector<uint64_t>> BpfSampler::KernelStack(int32_t stack_id) {
  if (stack_id < 0) return absl::NotFoundError("no kernel stack recorded");
  std::vector<uint64_t> addresses(kKernelStackDepth);
  uint32_t key = static_cast<uint32_t>(stack_id);
  if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.pyhang_kernel_stacks), &key,
                          addresses.data()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("reading kernel stack ", stack_id));
  }
  while (!addresses.empty() && addresses.back() == 0) addresses.pop_back();
  return addresses;
}

absl::StatusOr<std::vector<uint64_t>> BpfSampler::SumPerCpu(int map_fd, uint32_t entries) {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return ErrnoStatus(cpus, "counting possible CPUs");
  std::vector<uint64_t> per_cpu(cpus);
  std::vector<uint64_t> totals(entries);
  for (uint32_t key = 0; key < entries; ++key) {
    if (bpf_map_lookup_elem(map_fd, &key, per_cpu.data()) != 0) {
      return ErrnoStatus(errno, "reading BPF counters");
    }
    for (uint64_t value : per_cpu) totals[key] += value;
  }
  return totals;
}

absl::StatusOr<ErrorCounts> BpfSampler::ReadErrorCounts() {
  ASSIGN_OR_RETURN(std::vector<uint64_t> totals,
                   SumPerCpu(bpf_map__fd(skeleton_->maps.pyhang_errors), PYHANG_ERROR_COUNT));
  ErrorCounts counts;
  std::copy(totals.begin(), totals.end(), counts.counts.begin());
  return counts;
}

absl::StatusOr<StatCounts> BpfSampler::ReadStats() {
  ASSIGN_OR_RETURN(std::vector<uint64_t> totals,
                   SumPerCpu(bpf_map__fd(skeleton_->maps.pyhang_stats), PYHANG_STAT_COUNT));
  StatCounts counts;
  std::copy(totals.begin(), totals.end(), counts.counts.begin());
  return counts;
}

absl::StatusOr<std::vector<ProgramRunStats>> BpfSampler::ProgramStats() {
  std::vector<ProgramRunStats> stats;
  bpf_program* program = nullptr;
  bpf_object* object = skeleton_->obj;
  bpf_object__for_each_program(program, object) {
    int fd = bpf_program__fd(program);
    if (fd < 0) continue;  // not loaded (the other flavour)
    bpf_prog_info info{};
    uint32_t length = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &length) != 0) {
      return ErrnoStatus(errno, absl::StrCat("reading stats of ", bpf_program__name(program)));
    }
    stats.push_back(ProgramRunStats{bpf_program__name(program), info.run_cnt, info.run_time_ns});
  }
  return stats;
}

}  // namespace pyhang::sampler

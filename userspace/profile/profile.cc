#include "userspace/profile/profile.h"

#include "absl/strings/str_cat.h"

namespace pyhang::profile {

std::string Frame::Label() const {
  if (kind == FrameKind::kNative && !file.empty()) return absl::StrCat(name, " (", file, ")");
  if (kind == FrameKind::kKernel) return absl::StrCat(name, " [kernel]");
  if (kind != FrameKind::kPython || file.empty()) return name;
  if (line <= 0) return absl::StrCat(name, " (", file, ")");
  return absl::StrCat(name, " (", file, ":", line, ")");
}

uint32_t Profile::InternFrame(const Frame& frame) {
  auto [it, inserted] = frame_index_.try_emplace(frame, static_cast<uint32_t>(frames_.size()));
  if (inserted) frames_.push_back(frame);
  return it->second;
}

uint32_t Profile::InternStack(absl::Span<const uint32_t> frames) {
  std::vector<uint32_t> key(frames.begin(), frames.end());
  auto [it, inserted] = stack_index_.try_emplace(key, static_cast<uint32_t>(stacks_.size()));
  if (inserted) stacks_.push_back(std::move(key));
  return it->second;
}

uint32_t Profile::InternThread(int64_t tid, const std::string& name) {
  auto [it, inserted] = thread_index_.try_emplace(tid, static_cast<uint32_t>(threads_.size()));
  if (inserted) threads_.push_back(ThreadInfo{tid, name});
  else if (threads_[it->second].name.empty()) threads_[it->second].name = name;
  return it->second;
}

void Profile::AddSample(uint32_t stack, uint32_t thread, uint64_t count, uint64_t time_ns) {
  auto [it, inserted] =
      sample_index_.try_emplace(std::make_pair(stack, thread), static_cast<uint32_t>(samples_.size()));
  if (inserted) samples_.push_back(SampleTotal{stack, thread, 0, 0});
  samples_[it->second].count += count;
  samples_[it->second].time_ns += time_ns;
  total_count_ += count;
  total_time_ns_ += time_ns;
}

void Profile::CountsFromTime(uint64_t period_ns) {
  if (period_ns == 0) return;
  total_count_ = 0;
  for (SampleTotal& sample : samples_) {
    sample.count = (sample.time_ns + period_ns / 2) / period_ns;
    total_count_ += sample.count;
  }
}

}  // namespace pyhang::profile

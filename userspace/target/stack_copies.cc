#include "userspace/target/stack_copies.h"

#include <cstring>

namespace pyhang::target {

WithStackCopies::WithStackCopies(Target& live, std::vector<StackCopy> copies)
    : live_(live), memory_(*this) {
  Replace(std::move(copies));
}

void WithStackCopies::Replace(std::vector<StackCopy> copies) {
  copies_ = std::move(copies);
  by_tid_.clear();
  for (size_t i = 0; i < copies_.size(); ++i) by_tid_[copies_[i].tid] = i;
}

absl::StatusOr<std::vector<ThreadIds>> WithStackCopies::Threads() {
  absl::StatusOr<std::vector<ThreadIds>> threads = live_.Threads();
  if (!threads.ok()) return threads;
  absl::flat_hash_map<int64_t, size_t> unlisted = by_tid_;
  for (ThreadIds& thread : *threads) {
    auto it = by_tid_.find(thread.tid);
    if (it == by_tid_.end()) continue;
    thread.thread_pointer = copies_[it->second].registers.fs_base;
    unlisted.erase(thread.tid);
  }
  for (const auto& [tid, index] : unlisted) {
    ThreadIds thread;
    thread.tid = tid;
    thread.thread_pointer = copies_[index].registers.fs_base;
    threads->push_back(thread);
  }
  return threads;
}

const process::Registers* WithStackCopies::ThreadRegisters(int64_t tid) {
  auto it = by_tid_.find(tid);
  if (it == by_tid_.end() || copies_[it->second].on_cpu) return nullptr;
  return &copies_[it->second].registers;
}

absl::Status WithStackCopies::Memory::Read(uint64_t address, absl::Span<std::byte> out) {
  for (const StackCopy& copy : owner_.copies_) {
    uint64_t start = copy.registers.rsp;
    if (address < start || address - start >= copy.stack.size()) continue;
    uint64_t inside = address - start;
    if (out.size() > copy.stack.size() - inside) break;  // runs past the copy: ask the process
    std::memcpy(out.data(), copy.stack.data() + inside, out.size());
    return absl::OkStatus();
  }
  return owner_.live_.memory().Read(address, out);
}

}  // namespace pyhang::target

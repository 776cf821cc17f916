#include "userspace/common/huge_heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace pyhang {

void UseHugePagesForHeap(size_t bytes) {
  constexpr uintptr_t kHugePage = 2 << 20;
  const uintptr_t before = reinterpret_cast<uintptr_t>(::sbrk(0));
  // The next time glibc extends the heap it adds `bytes` of headroom:
  // one brk now instead of many small ones later.
  ::mallopt(M_TOP_PAD, static_cast<int>(bytes));
  void* volatile probe = ::malloc(64 << 10);  // volatile: the pair must not be optimized away
  ::free(probe);
  const uintptr_t after = reinterpret_cast<uintptr_t>(::sbrk(0));
  const uintptr_t start = (before + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = after & ~(kHugePage - 1);
  if (end > start) ::madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
}

}  // namespace pyhang

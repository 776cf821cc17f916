// Backs the heap with transparent huge pages where the kernel allows it.
//
// Why: a dump touches ~1,500 fresh pages of heap (frames, names, the
// output), and on virtual machines every first touch of a 4 KiB page is a
// fault costing 10-20 us, measured at 17 us here: more than half of a
// 100-thread dump. One 2 MiB huge page replaces 512 such faults.
#ifndef PYHANG_USERSPACE_COMMON_HUGE_HEAP_H_
#define PYHANG_USERSPACE_COMMON_HUGE_HEAP_H_

#include <cstddef>

namespace pyhang {

// Grows the heap by `bytes` now (glibc's top pad) and asks for huge pages
// on that range (MADV_HUGEPAGE). Memory is still only used when touched.
// Harmless where THP is off ("never"): the advice is then ignored.
void UseHugePagesForHeap(size_t bytes);

}  // namespace pyhang

#endif  // PYHANG_USERSPACE_COMMON_HUGE_HEAP_H_

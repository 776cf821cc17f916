// Profiles the output tests render: a small one whose outputs are checked
// exactly, and a hostile one whose names try to break out of every format.
#ifndef PYHANG_TESTS_OUTPUT_TEST_PROFILES_H_
#define PYHANG_TESTS_OUTPUT_TEST_PROFILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "userspace/profile/profile.h"

namespace pyhang::testing {

// Stacks for two threads touching your code, stdlib, dist-packages, a
// native frame and a [lock_wait] state; see SmallProfileCollapsed().
profile::Profile SmallProfile();

// RenderCollapsed(SmallProfile(), {}) as it must be, written out by hand.
std::string SmallProfileCollapsed();

// Names (functions, files, threads, title) carrying markup, script, CDATA
// and comment terminators, invalid UTF-8 and control characters.
profile::Profile HostileProfile();

// The hostile function names HostileProfile() contains, as Python would
// report them (before any escaping).
std::vector<std::string> HostileNames();

}  // namespace pyhang::testing

#endif  // PYHANG_TESTS_OUTPUT_TEST_PROFILES_H_

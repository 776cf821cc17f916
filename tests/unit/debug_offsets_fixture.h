// _Py_DebugOffsets records for the fake interpreter and for tests of the
// validator: the values Debian's 3.14.10 and 3.15.2 publish (read off the
// .PyRuntime section of /usr/bin/python3.1x), laid out by pyhang's own
// description of each version's record.
#ifndef PYHANG_TESTS_UNIT_DEBUG_OFFSETS_FIXTURE_H_
#define PYHANG_TESTS_UNIT_DEBUG_OFFSETS_FIXTURE_H_

#include <cstdint>
#include <map>
#include <string>

namespace pyhang::testing {

// "group.field" -> value, as the real build publishes it; empty for
// versions without a published record here.
std::map<std::string, uint64_t> PublishedDebugOffsets(int minor);

// The record's bytes: cookie, version, free_threaded, then `values` at
// their positions (fields not given are 0).
std::string ForgeDebugOffsets(int minor, uint32_t version_hex, bool free_threaded,
                              const std::map<std::string, uint64_t>& values);

}  // namespace pyhang::testing

#endif  // PYHANG_TESTS_UNIT_DEBUG_OFFSETS_FIXTURE_H_

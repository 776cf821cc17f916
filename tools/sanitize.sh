#!/usr/bin/env bash
# ASan + UBSan (.ci/run runs it after the tests, which build the sid root
# the slice needs; by hand, run tools/test.sh or tools/sid-root.sh first):
# builds pyhang and its tests into build-asan/ with
# -DPYHANG_SANITIZE=address,undefined (-fno-sanitize-recover: the first
# report ends the process), runs the unit tests, then a slice of the
# integration tests (dump live and from cores; test_native_live is left out:
# its 5 ms target-stall bound does not hold for a 3x slower sanitized
# pyhang sharing two CPUs) with build-asan/pyhang on one interpreter per layout
# family: pyenv 3.9 (frame objects), Debian's stripped python3 (3.11),
# pyenv 3.12, sid 3.14 (_Py_DebugOffsets) and sid 3.15 in a pid namespace
# (thread-local tstate); then the hostile-input tests whose bounds hold for a
# sanitized pyhang too (control characters in names, hostile source files, a
# target rewriting its own objects, a 1 MiB name, a 100 MiB str local; the
# 10,000-thread and churn tests time a pyhang that ASan slows down). Every sanitizer report also goes to a file under
# $reports; any such file fails the run, whatever the tests said.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools/install-deps.sh

start=$SECONDS
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPYHANG_SANITIZE=address,undefined >/dev/null
ninja -C build-asan
echo "sanitize.sh: build-asan built in $((SECONDS - start)) s"

reports=$(mktemp -d /tmp/pyhang-sanitizer-XXXXXX)
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
status=0

start=$SECONDS
# NativeUnwindTest unwinds a copy of its own live stack; reading the stack
# past the frames in use is what ASan's stack redzones forbid, so those six
# are left out here (production code copies other processes' stacks).
ctest --test-dir build-asan -L unit -E NativeUnwindTest -j2 --output-on-failure || status=1
echo "sanitize.sh: unit tests in $((SECONDS - start)) s"

start=$SECONDS
(cd tests/integration &&
  PYHANG_BIN="$root/build-asan/pyhang" \
  PYHANG_ONLY_INTERPRETERS=pyenv-3.9,system-python3,pyenv-3.12,sid-3.14,sid-3.15-pidns \
  /usr/bin/python3 -m unittest test_dump_scenarios test_core_crash) || status=1
echo "sanitize.sh: integration slice in $((SECONDS - start)) s"

start=$SECONDS
extreme=test_extreme_targets.ExtremeTargetsTest
(cd tests/integration &&
  PYHANG_BIN="$root/build-asan/pyhang" /usr/bin/python3 -m unittest test_hostile_names \
    $extreme.test_hostile_source_files $extreme.test_self_rewriting_target \
    $extreme.test_megabyte_function_name $extreme.test_hundred_megabyte_str_local) || status=1
echo "sanitize.sh: hostile-input slice in $((SECONDS - start)) s"

if compgen -G "$reports/*" >/dev/null; then
  echo "sanitize.sh: sanitizer reports:" >&2
  for report in "$reports"/*; do
    echo "== $report" >&2
    head -60 "$report" >&2
  done
  status=1
fi
[ "$status" -eq 0 ] && echo "sanitize.sh: no sanitizer report" || echo "sanitize.sh: FAILED" >&2
exit "$status"

#!/usr/bin/env bash
# Fuzzes the core-file and ELF parsers for a bounded time (CI runs it):
# builds tests/fuzz's libFuzzer targets with clang (ASan, UBSan, coverage)
# into build-fuzz/, makes their seed corpora (tests/fuzz/make_seeds.py:
# gcore of a sleep and of a python3, shrunk; synthetic and broken cores;
# zstd, lz4 and xz ones), then runs core_fuzzer and core_input_fuzzer side
# by side for PYHANG_FUZZ_SECONDS (default 60) each. Fails on any crash,
# leak, timeout or out-of-memory and names the reproducer; replay one with
#   build-fuzz/tests/fuzz/core_fuzzer REPRODUCER
# The corpora found so far stay in build-fuzz/corpus/ for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${PYHANG_FUZZ_SECONDS:-60}
tools/install-deps.sh

# -O1 with assertions (no NDEBUG); clang does not know GCC's -Wno-maybe-uninitialized.
build_start=$SECONDS
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DPYHANG_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" -DCMAKE_CXX_FLAGS=-Wno-unknown-warning-option >/dev/null
ninja -C build-fuzz core_fuzzer core_input_fuzzer
echo "fuzz.sh: build-fuzz built in $((SECONDS - build_start)) s"

out=build-fuzz/fuzz
rm -rf "$out"
mkdir -p "$out/artifacts" build-fuzz/corpus/core build-fuzz/corpus/input
python3 tests/fuzz/make_seeds.py build-fuzz/seeds

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run() {  # run NAME KIND: fuzzes with build-fuzz/corpus/KIND, seeded by build-fuzz/seeds/KIND
  local name=$1 kind=$2
  build-fuzz/tests/fuzz/"$name" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -max_len=65536 -handle_xfsz=0 -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
    build-fuzz/corpus/"$kind" build-fuzz/seeds/"$kind" >"$out/$name.log" 2>&1
}
echo "fuzz.sh: fuzzing for ${seconds} s (logs in $out/)"
status=0
run core_fuzzer core & core_pid=$!
run core_input_fuzzer input & input_pid=$!
wait "$core_pid" || status=1
wait "$input_pid" || status=1

for name in core_fuzzer core_input_fuzzer; do
  log=$out/$name.log
  # "#123 DONE cov: 1 ft: 2 corp: 3/4b lim: 5 exec/s: 6 rss: 7Mb"
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [[ -n $done_line ]]; then
    read -r cov ft corpus <<<"$(sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([^ ]+).*/\1 \2 \3/' <<<"$done_line")"
    echo "fuzz.sh: $name: ${runs:-?} runs, ${speed:-?} exec/s, cov $cov ft $ft, corpus $corpus"
  else  # its report: from the first error on, else the end of the log
    echo "fuzz.sh: $name did not finish ($log):"
    first=$(grep -m1 -nE '^==[0-9]+==|runtime error|FUZZ_CHECK failed|ALARM' "$log" | cut -d: -f1 || true)
    if [[ -n $first ]]; then sed -n "$((first > 3 ? first - 3 : 1)),$((first + 80))p" "$log"; else tail -n 40 "$log"; fi
  fi
done
# PYHANG_FUZZ_COVERAGE=1: per source file, the coverage edges the corpus
# reaches (UBSan's checks count as edges too, so 100% is out of reach).
if [[ ${PYHANG_FUZZ_COVERAGE:-0} == 1 ]]; then
  for name in core_fuzzer:core core_input_fuzzer:input; do
    build-fuzz/tests/fuzz/"${name%%:*}" -runs=0 -print_coverage=1 -max_len=65536 \
      build-fuzz/corpus/"${name##*:}" >"$out/${name%%:*}.coverage" 2>&1 || true
    echo "fuzz.sh: ${name%%:*}'s corpus reaches, in edges:"
    awk -v root="$PWD/" '/^(UN)?COVERED_FUNC:/ {
        split($5, edges, "/"); file = $NF; sub(/:[0-9]+$/, "", file)
        if (index(file, root "userspace/") != 1) next
        file = substr(file, length(root) + 1); hit[file] += edges[1]; all[file] += edges[2] }
      END { for (file in all) if (hit[file]) printf "  %5d/%-5d %5.1f%%  %s\n", hit[file], all[file], 100 * hit[file] / all[file], file }' \
      "$out/${name%%:*}.coverage" | sort -k3
  done
fi

shopt -s nullglob
artifacts=("$out"/artifacts/*)
if ((status != 0 || ${#artifacts[@]} > 0)); then
  for artifact in "${artifacts[@]}"; do
    name=$(basename "$artifact")
    echo "fuzz.sh: FAILED: ${name%%-*}: reproducer $artifact (replay: build-fuzz/tests/fuzz/${name%%-*} $artifact)"
  done
  ((${#artifacts[@]} > 0)) || echo "fuzz.sh: FAILED without a reproducer: see the logs in $out/"
  exit 1
fi
echo "fuzz.sh: no crash, leak or timeout"

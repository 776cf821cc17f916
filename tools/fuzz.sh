#!/usr/bin/env bash
# Fuzzes pyhang's parsers of untrusted bytes for a bounded time (CI runs
# it): builds tests/fuzz's libFuzzer targets with clang (ASan, UBSan,
# coverage) into build-fuzz/, makes their seed corpora, then runs them two
# at a time (the CI machine has two cores):
#   core_fuzzer + core_input_fuzzer       cores, compressed cores, ELF files
#                                         (seeds: tests/fuzz/make_seeds.py:
#                                         gcore of a sleep and of a python3,
#                                         shrunk; synthetic and broken cores;
#                                         zstd, lz4 and xz ones)
#   python_fuzzer + events_fuzzer         the decoder over fake interpreter
#                                         memory; BPF event records
#   debug_offsets_fuzzer + output_fuzzer  _Py_DebugOffsets records; the
#                                         collapsed/speedscope/SVG/pprof writers
# (those four make their own seeds with --make-seeds=DIR from the unit
# tests' fixtures), each for PYHANG_FUZZ_SECONDS (default: 60 for the core
# pair, 45 for the others; about 2.5 minutes of fuzzing in all). Fails on
# any crash, leak, timeout, out-of-memory or FUZZ_CHECK and names the
# reproducer; replay one with
#   build-fuzz/tests/fuzz/NAME REPRODUCER
# The corpora found so far stay in build-fuzz/corpus/ for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
core_seconds=${PYHANG_FUZZ_SECONDS:-60}
seconds=${PYHANG_FUZZ_SECONDS:-45}
# name:corpus:max_len, in the pairs that run side by side.
pairs=("core_fuzzer:core:65536 core_input_fuzzer:input:65536"
       "python_fuzzer:python:4096 events_fuzzer:events:8192"
       "debug_offsets_fuzzer:debug_offsets:2048 output_fuzzer:output:4096")
fuzzers=(core_fuzzer core_input_fuzzer python_fuzzer events_fuzzer debug_offsets_fuzzer output_fuzzer)
tools/install-deps.sh

# -O1 with assertions (no NDEBUG); clang does not know GCC's -Wno-maybe-uninitialized.
build_start=$SECONDS
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DPYHANG_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" -DCMAKE_CXX_FLAGS=-Wno-unknown-warning-option >/dev/null
ninja -C build-fuzz "${fuzzers[@]}"
echo "fuzz.sh: build-fuzz built in $((SECONDS - build_start)) s"

out=build-fuzz/fuzz
rm -rf "$out"
mkdir -p "$out/artifacts"
python3 tests/fuzz/make_seeds.py build-fuzz/seeds
for pair in "${pairs[@]}"; do
  for spec in $pair; do
    IFS=: read -r name kind _ <<<"$spec"
    mkdir -p build-fuzz/corpus/"$kind"
    [[ $kind == core || $kind == input ]] && continue
    rm -rf build-fuzz/seeds/"$kind"
    build-fuzz/tests/fuzz/"$name" --make-seeds=build-fuzz/seeds/"$kind" 2>&1 | sed 's/^/fuzz.sh: /'
  done
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run() {  # run NAME:KIND:MAX_LEN: fuzzes with build-fuzz/corpus/KIND, seeded by build-fuzz/seeds/KIND
  local name kind max_len time=$seconds
  IFS=: read -r name kind max_len <<<"$1"
  [[ $kind == core || $kind == input ]] && time=$core_seconds
  build-fuzz/tests/fuzz/"$name" -max_total_time="$time" -rss_limit_mb=2048 -timeout=10 \
    -max_len="$max_len" -handle_xfsz=0 -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
    build-fuzz/corpus/"$kind" build-fuzz/seeds/"$kind" >"$out/$name.log" 2>&1
}
echo "fuzz.sh: fuzzing, two at a time, ${core_seconds} s (core pair) and ${seconds} s (others) each (logs in $out/)"
status=0
fuzz_start=$SECONDS
for pair in "${pairs[@]}"; do
  pids=()
  for spec in $pair; do
    run "$spec" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
done
echo "fuzz.sh: fuzzed for $((SECONDS - fuzz_start)) s"

for name in "${fuzzers[@]}"; do
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
  for name in core_fuzzer:core core_input_fuzzer:input python_fuzzer:python events_fuzzer:events \
              debug_offsets_fuzzer:debug_offsets output_fuzzer:output; do
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

echo "fuzz.sh: $SECONDS s in all (build, seeds, fuzzing)"
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

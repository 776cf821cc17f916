#!/usr/bin/env bash
# Installs what pyhang needs to build and test, from Debian 12 packages.
# Runs apt-get only when something is missing, so it is cheap to repeat.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  # libraries
  libabsl-dev libelf-dev zlib1g-dev libcli11-dev nlohmann-json3-dev prometheus-cpp-dev
  # core files: elfutils' libdw (DWARF unwinding, symbols), zstd/lz4/xz cores
  libdw-dev libzstd-dev liblz4-dev liblzma-dev
  # BPF programs (clang -target bpf, bpftool gen skeleton)
  clang llvm libbpf-dev bpftool
  # tests: GoogleTest, real interpreters, a real browser for the flamegraph,
  # protoc + profile.proto to decode pprof output
  libgtest-dev libgmock-dev python3 chromium protobuf-compiler golang-github-google-pprof-dev
  # tests: promtool and a real Prometheus for dashboards/
  prometheus
  # tests: a Debian sid root with CPython 3.14/3.15 (tools/sid-root.sh), run
  # chrooted, in a new pid namespace (unshare), with gdb for DWARF checks
  debootstrap util-linux gdb
  # tests: compressed cores (the CLIs), glibc's debug symbols so gdb and
  # pyhang name the same native frames
  zstd lz4 xz-utils libc6-dbg
)
# Node.js runs the output-format tests (playwright-core, ajv, pprof-format).
# This machine kind ships NodeSource's nodejs (with npm inside); install
# Debian's only where there is none.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
# Extra groups, asked for by the scripts that need them.
for group in "$@"; do
  case "$group" in
    bench) packages+=(gdb python3.11-dbg) ;;  # bench/dump_vs_gdb.py
    *) echo "install-deps.sh: unknown group '$group'" >&2; exit 2 ;;
  esac
done

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps.sh: missing packages (${missing[*]}); run as root or install them" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

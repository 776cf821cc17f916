#!/usr/bin/env bash
# Builds austin (https://github.com/P403n1x87/austin) from a source checkout
# that you provide, for bench/dump_vs_austin.py. Nothing of austin lives in
# this repository: get its source yourself (e.g. the v3.7.0 tag), then
#
#   sudo tools/build-austin.sh AUSTIN_SRC_DIR [PREFIX]     (PREFIX: /usr/local)
#
# installs PREFIX/bin/austin. The build runs in a copy of AUSTIN_SRC_DIR
# (autoreconf writes into its tree), with Debian's autoconf, automake and gcc
# (installed with apt-get when missing). Only `austin` is built; austinp
# needs static libunwind and is not used by the bench.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 AUSTIN_SRC_DIR [PREFIX]" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
prefix=${2:-/usr/local}
if [[ ! -f $src/configure.ac || ! -f $src/src/austin.c ]]; then
  echo "build-austin.sh: $src is not an austin source tree (no configure.ac, src/austin.c)" >&2
  exit 1
fi

missing=()
for tool in autoreconf:autoconf automake:automake gcc:gcc make:make; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "build-austin.sh: missing ${missing[*]}; run as root or apt-get install them" >&2
    exit 1
  fi
  echo "build-austin.sh: apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/austin-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -a "$src/." "$work/"
cd "$work"
echo "build-austin.sh: building $(sed -n 's/^AC_INIT(\[austin\], \[\([^]]*\)\].*/\1/p' configure.ac) from $src"
autoreconf --install >/dev/null 2>&1 || { automake --add-missing >/dev/null 2>&1; autoreconf --install; }
./configure --prefix="$prefix" >/dev/null
make -j"$(nproc)" -C src austin >/dev/null
install -D -m 0755 src/austin "$prefix/bin/austin"
echo "build-austin.sh: installed $prefix/bin/austin ($("$prefix/bin/austin" --version 2>&1 | head -1))"

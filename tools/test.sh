#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, run every test.
# Unit tests need nothing special; integration tests run real interpreters
# (every supported pyenv version found, Debian's /usr/bin/python3, venvs,
# and CPython 3.14/3.15 from a Debian sid root that tools/sid-root.sh builds
# once and caches) and skip what needs root unless PYHANG_REQUIRE_BPF=1,
# which turns skips into failures.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
# The sid root needs root (debootstrap, chroot); without root its tests skip
# (or fail, under PYHANG_REQUIRE_PYTHONS).
if [[ $(id -u) -eq 0 ]]; then tools/sid-root.sh >/dev/null; fi
tools/build.sh -DPYHANG_WERROR=ON
ctest --test-dir build --output-on-failure "$@"

#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, run every test.
# Unit tests need nothing special; integration tests run real interpreters
# (every pyenv 3.8-3.13 found, Debian's /usr/bin/python3, a venv) and skip
# what needs root unless PYHANG_REQUIRE_BPF=1, which turns skips into failures.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh -DPYHANG_WERROR=ON
ctest --test-dir build --output-on-failure "$@"

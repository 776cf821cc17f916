#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, start a small
# Python program whose two threads deadlock, and let pyhang show it.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh >/dev/null
python=${PYTHON:-python3}
ready=$(mktemp -u)
"$python" tests/workloads/demo_deadlock.py "$ready" &
demo=$!
trap 'kill $demo 2>/dev/null || true; rm -f "$ready"' EXIT
for _ in $(seq 100); do [[ -e $ready ]] && break; sleep 0.1; done
echo "\$ build/pyhang dump --pid $demo"
build/pyhang dump --pid "$demo"

#!/usr/bin/env bash
# Runs the output tests that use real tools (tests/output/js/*.test.mjs):
#   run_js_test.sh --install            npm ci into tests/output/node_modules
#   run_js_test.sh NAME.test.mjs DIR    run one test on fixtures in DIR
# (CTest runs both; see CMakeLists.txt.) Needs node and npm; the browser test
# needs Debian's chromium. Playwright never downloads a browser here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

die() {
  echo "run_js_test.sh: $*" >&2
  exit 1
}

command -v node >/dev/null || die "node not found: apt-get install nodejs"

if [[ "${1:-}" == --install ]]; then
  command -v npm >/dev/null || die "npm not found: apt-get install npm"
  cd "$here"
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  # npm ci rewrites node_modules/.package-lock.json; newer than the lock
  # file means the installed packages are the locked ones.
  if [[ node_modules/.package-lock.json -nt package-lock.json ]]; then
    echo "npm packages are up to date"
    exit 0
  fi
  exec npm ci --no-audit --no-fund
fi

(($# == 2)) || die "usage: run_js_test.sh --install | NAME.test.mjs FIXTURE_DIR"
[[ -d "$here/node_modules" ]] || die "npm packages missing: run 'run_js_test.sh --install' first"
[[ -d "$2" ]] || die "fixture directory $2 missing: run output_write_fixtures DIR first"
if [[ "$1" == svg_browser* ]]; then
  chromium="${PYHANG_CHROMIUM:-/usr/bin/chromium}"
  [[ -x "$chromium" ]] || die "chromium not found at $chromium: apt-get install chromium (or set PYHANG_CHROMIUM)"
  export PYHANG_CHROMIUM="$chromium"
fi
export PYHANG_OUTPUT_FIXTURES="$2"
exec node --test --test-reporter=spec "$here/js/$1"

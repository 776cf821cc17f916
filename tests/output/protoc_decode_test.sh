#!/usr/bin/env bash
# Decodes the pprof fixtures with Google's own protobuf parser (protoc
# --decode) against the profile.proto Debian ships with pprof; protoc also
# rejects invalid UTF-8 in proto3 strings, which the hostile fixture tries.
#   protoc_decode_test.sh FIXTURE_DIR
# Needs apt packages protobuf-compiler and golang-github-google-pprof-dev.
set -euo pipefail
fixtures=$1
proto_dir=${PYHANG_PPROF_PROTO_DIR:-/usr/share/gocode/src/github.com/google/pprof/proto}
passed=0
failed=0

die() {
  echo "protoc_decode_test.sh: $*" >&2
  exit 1
}
check() {  # check DESCRIPTION COMMAND...
  local description=$1
  shift
  if "$@"; then
    echo "ok - $description"
    passed=$((passed + 1))
  else
    echo "not ok - $description"
    failed=$((failed + 1))
  fi
}

command -v protoc >/dev/null || die "protoc not found: apt-get install protobuf-compiler"
[[ -f "$proto_dir/profile.proto" ]] ||
  die "$proto_dir/profile.proto not found: apt-get install golang-github-google-pprof-dev"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for name in small hostile; do
  decoded="$work/$name.txt"
  errors="$work/$name.err"
  check "$name: protoc decodes it" bash -c "gunzip -c '$fixtures/$name.pb.gz' |
    protoc --decode=perftools.profiles.Profile --proto_path='$proto_dir' profile.proto >'$decoded' 2>'$errors'"
  [[ -s "$errors" ]] && cat "$errors" >&2
  check "$name: no protoc warnings" test ! -s "$errors"
  check "$name: string_table[0] is \"\"" \
    test "$(grep -m1 '^string_table:' "$decoded")" = 'string_table: ""'
  # The first value of each sample is its count.
  pprof_total=$(awk '/^sample \{/ { n = 0 } /^  value:/ { if (n++ == 0) t += $2 } END { print t + 0 }' "$decoded")
  collapsed_total=$(awk '{ t += $NF } END { print t + 0 }' "$fixtures/$name.collapsed")
  check "$name: $pprof_total samples in pprof, $collapsed_total in collapsed" \
    test "$pprof_total" -gt 0 -a "$pprof_total" -eq "$collapsed_total"
done
echo "$passed passed, $failed failed"
((failed == 0))

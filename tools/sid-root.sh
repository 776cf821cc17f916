#!/usr/bin/env bash
# Builds (once) a minimal Debian sid root with CPython 3.14 and 3.15, the
# interpreters Debian 12 does not ship. Installing sid packages on the host
# would replace its libc; a separate root is also exactly the shape of a
# container: a process started with `chroot DIR python3.15` has its files
# under another root, and pyhang must reach them through /proc/PID/root.
#
#   tools/sid-root.sh [DIR]     (default: $PYHANG_SID_ROOT, else /var/cache/pyhang/sid-root)
#
# Cached: every step is skipped when its result exists, so running it again
# costs a second. The mirror is the one apt already uses on this machine.
set -euo pipefail

root=${1:-${PYHANG_SID_ROOT:-/var/cache/pyhang/sid-root}}
# gdb: sid's gdb writes correct cores of sid's processes (Debian 12's gdb
# zero-fills thread stacks that glibc >= 2.41 guards with MADV_GUARD_INSTALL).
# libc6-dbg: sid's libc.so.6 keeps no .symtab, so without its debug file
# native frames in libc (start_thread, clone3) have no names.
packages=(python3.14 python3.15 python3.14-dbg python3.15-dbg
          libpython3.14-dev libpython3.15-dev gcc libc6-dev libc6-dbg gdb)

if [[ $(id -u) -ne 0 ]]; then
  echo "sid-root.sh: needs root (debootstrap, chroot)" >&2
  exit 1
fi

have_all() {
  for package in "${packages[@]}"; do
    chroot "$root" dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed" || return 1
  done
}

mirror() {
  # The first URIs: line of the deb822 sources, else of sources.list.
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [[ -n $uri ]] || uri=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

mount_proc() {
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
}

if [[ ! -x $root/usr/bin/apt-get ]]; then
  command -v debootstrap >/dev/null || {
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  echo "sid-root.sh: debootstrap sid into $root"
  rm -rf "$root.partial"
  mkdir -p "$(dirname "$root")"
  debootstrap --variant=minbase sid "$root.partial" "$(mirror)" >/dev/null
  mv "$root.partial" "$root"
fi
mount_proc
# The mirror may serve a snapshot whose Release file is past its
# Valid-Until date (seen here); its signatures are still checked.
echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99pyhang-snapshot"
if ! have_all; then
  echo "sid-root.sh: installing ${packages[*]} into $root"
  chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  chroot "$root" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
mkdir -p "$root/tmp"
chmod 1777 "$root/tmp"
echo "$root"

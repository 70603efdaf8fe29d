#!/usr/bin/env bash
# Installs a software Vulkan driver (Mesa lavapipe / llvmpipe) so the WebGPU backend (Dawn, via
# the `webgpu` npm package) has an adapter on a machine without a GPU.
#
# Why backports: Debian bookworm's own Mesa 22.3 lavapipe lacks features Dawn requires (dynamic
# indexing), so Dawn reports no adapter. Mesa 25.x from bookworm-backports works.
#
# Run as root on Debian 12 (bookworm). Idempotent: a second run only re-checks.
# Prints the lavapipe ICD json path on the last line of stdout (use it for VK_ICD_FILENAMES if
# several Vulkan drivers are installed). Exits non-zero with a clear message when it cannot.
#
# Environment:
#   DEBIAN_MIRROR   apt mirror for bookworm-backports (default http://deb.debian.org/debian)
#   MIN_MESA_MAJOR  oldest acceptable Mesa major version (default 24)
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
MIN_MESA_MAJOR="${MIN_MESA_MAJOR:-24}"
BACKPORTS_LIST=/etc/apt/sources.list.d/bookworm-backports.sources

fail() {
  echo "install-vulkan: FAILED: $*" >&2
  exit 1
}
log() { echo "install-vulkan: $*" >&2; }

[ "$(id -u)" = 0 ] || fail "must run as root (try: sudo $0)"
command -v apt-get >/dev/null || fail "apt-get not found: this script supports Debian 12 (bookworm) only"

codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-unknown}")"

installed_mesa_version() {
  dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' mesa-vulkan-drivers 2>/dev/null |
    awk '$1 == "ii" { print $2 }'
}

# "25.0.7-2~bpo12+1" -> 25 ; "1:25.0.7..." (with an epoch) -> 25
major_of() { echo "$1" | sed -E 's/^[0-9]+://; s/^([0-9]+).*/\1/'; }

find_lavapipe_icd() {
  local f
  for f in /usr/share/vulkan/icd.d/lvp_icd.*.json /usr/share/vulkan/icd.d/lvp_icd.json; do
    if [ -f "$f" ]; then echo "$f"; return 0; fi
  done
  return 1
}

mesa_is_recent_enough() {
  local v
  v="$(installed_mesa_version)"
  [ -n "$v" ] && [ "$(major_of "$v")" -ge "$MIN_MESA_MAJOR" ]
}

if mesa_is_recent_enough && find_lavapipe_icd >/dev/null; then
  log "mesa-vulkan-drivers $(installed_mesa_version) already installed"
else
  if [ "$codename" != bookworm ]; then
    fail "expected Debian bookworm, found '$codename': install Mesa >= $MIN_MESA_MAJOR (mesa-vulkan-drivers) with your distribution's tools"
  fi

  # Add bookworm-backports unless some apt source already names it (either apt format).
  if ! grep -rqsE '(^|[[:space:]])bookworm-backports([[:space:]]|$)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding bookworm-backports ($MIRROR) as $BACKPORTS_LIST"
    cat >"$BACKPORTS_LIST" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  else
    log "bookworm-backports already in apt sources"
  fi

  log "apt-get update"
  apt-get update -q >&2 || fail "apt-get update failed (is $MIRROR reachable?)"

  candidate="$(apt-cache policy mesa-vulkan-drivers 2>/dev/null | grep -E '^[[:space:]]+[0-9:.~+a-z-]+bpo12' | head -n1 | awk '{print $1}' || true)"
  [ -n "$candidate" ] || fail "no mesa-vulkan-drivers in bookworm-backports (apt-cache policy mesa-vulkan-drivers shows none)"
  log "installing mesa-vulkan-drivers $candidate from bookworm-backports"

  # libvulkan1 is the Vulkan loader Dawn dlopen()s; take it from backports too so it is at
  # least as new as the driver. Its dependencies come from backports only where needed.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -t bookworm-backports mesa-vulkan-drivers libvulkan1 >&2 ||
    fail "apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1 failed"
fi

version="$(installed_mesa_version)"
[ -n "$version" ] || fail "mesa-vulkan-drivers is not installed after apt-get install"
[ "$(major_of "$version")" -ge "$MIN_MESA_MAJOR" ] ||
  fail "mesa-vulkan-drivers $version is too old for Dawn (need Mesa >= $MIN_MESA_MAJOR from bookworm-backports)"

icd="$(find_lavapipe_icd)" || fail "lavapipe ICD json not found in /usr/share/vulkan/icd.d/ (files: $(ls /usr/share/vulkan/icd.d/ 2>/dev/null | tr '\n' ' '))"

# The ICD json names the driver library; make sure it is really there.
lib="$(sed -nE 's/.*"library_path"[[:space:]]*:[[:space:]]*"([^"]+)".*/\1/p' "$icd")"
[ -n "$lib" ] || fail "no library_path in $icd"
case "$lib" in
  /*) [ -f "$lib" ] || fail "$icd names $lib, which does not exist" ;;
  *) ldconfig -p | grep -F "$lib" >/dev/null || [ -f "$(dirname "$icd")/$lib" ] || fail "$icd names $lib, which the loader cannot find" ;;
esac
ldconfig -p | grep 'libvulkan\.so\.1' >/dev/null || fail "the Vulkan loader libvulkan.so.1 is not installed (apt-get install libvulkan1)"

log "OK: mesa-vulkan-drivers $version, lavapipe driver $lib"
echo "$icd"

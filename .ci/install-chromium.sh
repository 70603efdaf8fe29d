#!/usr/bin/env bash
# Installs headless Chromium (Debian package `chromium`) for the report rendering test
# (test/report/render.test.ts). Run as root on Debian. Idempotent: when a working chromium is
# already on PATH it only prints its version.
# Prints the chromium binary path on the last line of stdout.
set -euo pipefail

fail() {
  echo "install-chromium: FAILED: $*" >&2
  exit 1
}
log() { echo "install-chromium: $*" >&2; }

find_chromium() {
  for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

if bin="$(find_chromium)" && "$bin" --version >/dev/null 2>&1; then
  log "already installed: $("$bin" --version 2>/dev/null)"
  echo "$bin"
  exit 0
fi

[ "$(id -u)" = 0 ] || fail "chromium is missing and installing it needs root (try: sudo $0)"
command -v apt-get >/dev/null || fail "apt-get not found: install Chromium with your system's package manager"

export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
apt-get update -qq >&2 || fail "apt-get update failed"
log "apt-get install chromium (this takes a minute)"
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2 || fail "apt-get install chromium failed"

bin="$(find_chromium)" || fail "the chromium package installed but no chromium binary is on PATH"
"$bin" --version >&2 || fail "$bin does not start"
echo "$bin"

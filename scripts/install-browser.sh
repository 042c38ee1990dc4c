#!/usr/bin/env bash
# Installs Debian's Chromium for the headless browser test (test/browser/), which drives it through
# playwright-core: no browser download from Playwright's CDN. Idempotent: does nothing when
# /usr/bin/chromium already exists. Needs root or sudo and apt-get.
#
#   bash scripts/install-browser.sh
set -euo pipefail

CHROMIUM=/usr/bin/chromium

log() { printf '[install-browser] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ -x "$CHROMIUM" ]]; then
  log "already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 ||
  die "apt-get not found; install Chromium so that $CHROMIUM exists (the browser test needs it)"

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root or sudo to run: $*"
  fi
}

log 'apt-get update'
as_root apt-get update -qq
# fonts-liberation: readable text in screenshots (docs/images/local-page.png) without the recommends.
log 'apt-get install chromium fonts-liberation'
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium fonts-liberation

[[ -x "$CHROMIUM" ]] || die "apt-get finished but $CHROMIUM is missing"
log "installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"

#!/usr/bin/env bash
# Installs Debian's Chromium for the console's end-to-end tests
# (scimapi/console, chromedp driving /usr/bin/chromium headless).
# A no-op when Chromium is already there. Needs root (CI runs as root on a
# fresh Debian 12); without root and without Chromium it says so and leaves
# the tests to skip (or fail with CI=true).
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }

if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "chromium is missing and this is not root: the console browser tests will skip (apt-get install chromium)"
  exit 0
fi
log "installing chromium (console end-to-end tests)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version >&2

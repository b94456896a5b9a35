#!/usr/bin/env bash
# Installs what the browser tests need, skipping whatever is already present:
# Debian's Chromium (Playwright's own browser download cannot work here), curl (the
# README's API examples are run as written) and the npm packages in end2end/
# (Playwright, web-push-testing as the push service).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ] || ! command -v curl >/dev/null; then
  echo "[test-deps] installing Debian's chromium and curl"
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core curl >/dev/null
fi

cd end2end
# Reinstall only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.installed-lock; then
  echo "[test-deps] installing npm packages for end2end/"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.installed-lock
fi

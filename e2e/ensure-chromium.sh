#!/usr/bin/env bash
# Browser tests drive Debian's Chromium; Playwright's own browser download cannot be used.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
elif command -v sudo >/dev/null && command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then
  echo "Installing Debian's chromium for the browser tests…"
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "The browser tests need Chromium at /usr/bin/chromium. Install it (Debian/Ubuntu: sudo apt-get install chromium) and rerun." >&2
  exit 1
fi

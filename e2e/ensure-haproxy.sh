#!/usr/bin/env bash
# The load-balancer test runs edge replicas behind Debian's HAProxy. Installing it is best effort: without it that
# test skips with a notice, everything else runs.
set -uo pipefail
if command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's haproxy for the load-balancer test…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null) || true
elif command -v sudo >/dev/null && command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then
  echo "Installing Debian's haproxy for the load-balancer test…"
  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null) || true
fi
if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
  echo "haproxy is not installed (Debian/Ubuntu: sudo apt-get install haproxy): the load-balancer test will be skipped." >&2
fi
exit 0

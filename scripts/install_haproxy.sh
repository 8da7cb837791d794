#!/usr/bin/env bash
# Debian's haproxy, installed when missing (as root, or through sudo without a password), the
# way scripts/test.sh installs chromium. Used by scripts/test.sh (the cluster tests) and
# `make scale-demo`. Exits 1 when haproxy is still missing. Debian's package ships a
# configuration that listens nowhere: installing it starts nothing.
set -uo pipefail
have() { command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ]; }
have && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
if [ "$SUDO" != none ]; then
  echo "Installing Debian's haproxy…"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/tmp/console-apt-haproxy.log 2>&1 \
    || { $SUDO apt-get update -q >/tmp/console-apt-haproxy.log 2>&1 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >>/tmp/console-apt-haproxy.log 2>&1; } \
    || echo "Could not install haproxy (see /tmp/console-apt-haproxy.log)." >&2
else
  echo "haproxy is missing and this user cannot install it: run apt-get install haproxy as root." >&2
fi
have

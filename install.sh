#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks, then casebot itself. Safe to run again.
# --test: also make sure a PostgreSQL server answers on 127.0.0.1:5432 (the store tests run on it too).
set -euo pipefail
cd "$(dirname "$0")"
with_postgres=0
[ "${1:-}" = "--test" ] && with_postgres=1
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The old headless shell: what headless nights (and the tests) run on, 1.7x faster than the full browser.
command -v chromium-headless-shell >/dev/null 2>&1 || missing+=(chromium-headless-shell)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
command -v scrot >/dev/null 2>&1 || missing+=(scrot)
command -v xclip >/dev/null 2>&1 || missing+=(xclip)   # the desktop channel reads fields back through the clipboard
# certutil: the robot's Chromium trusts tls.ca_bundle through an NSS database of its own (bot/browser/trust.py).
command -v certutil >/dev/null 2>&1 || missing+=(libnss3-tools)
# --test: the proxy tests (tests/net) run a real HTTP proxy as a child process
[ "$with_postgres" = 1 ] && ! command -v tinyproxy >/dev/null 2>&1 && missing+=(tinyproxy)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install.sh: installing ${missing[*]} from Debian" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
if [ "$with_postgres" = 1 ] && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "install.sh: installing postgresql from Debian for the tests" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
  echo "install.sh: starting PostgreSQL" >&2
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432 || { echo "install.sh: PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
fi
# pyenv only sees new console scripts after a rehash
if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi

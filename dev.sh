#!/usr/bin/env bash
# G-Share's two commands for a fresh machine:
#   ./dev.sh run    install what is needed and run gshare on its embedded defaults
#   ./dev.sh test   install what is needed and run the whole test suite (extra args go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

RUN_PACKAGES=(python3-venv clamav-daemon clamav libmagic1)
# The suite also drives real sync tools and a real browser (Lao needs fonts-noto-core), and
# runs gshare through a PgBouncer of its own (tests/gshare/test_pgbouncer.py), signs in against
# an OpenLDAP slapd of its own (tests/fixtures/ldap.py), a Samba Active Directory domain
# controller (tests/fixtures/samba_ad.py) and an OpenID Connect provider (oidc-provider, run
# with Node: tests/oidc/).
TEST_PACKAGES=("${RUN_PACKAGES[@]}" rclone s3cmd chromium fonts-noto-core pgbouncer nodejs slapd ldap-utils
  samba samba-ad-dc samba-ad-provision)
VENV=.venv

missing_debian_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

install_debian_packages() {
  command -v dpkg-query >/dev/null || { echo "not Debian/Ubuntu: install $* yourself" >&2; return; }
  local missing
  missing=$(missing_debian_packages "$@")
  [ -z "$missing" ] && return
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing Debian packages: $missing"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}

install_python_packages() {
  local extras=$1 python=${PYTHON:-python3}
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "gshare needs Python 3.11 or newer ($python is older)" >&2; exit 1; }
  [ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[$extras]"
}

install_node_packages() {
  command -v npm >/dev/null || install_debian_packages npm  # NodeSource's nodejs brings npm
  # The browser tests inject axe-core; the suite runs its own OpenID Connect provider: both at
  # the versions their package-lock.json pins.
  npm ci --prefix tests/web/browser --no-audit --no-fund --loglevel=error
  npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
}

start_system_clamd() {
  # gshare serve uses the system clamd at /run/clamav/clamd.ctl; start it if it has signatures.
  [ -S /run/clamav/clamd.ctl ] && return
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if ! ls /var/lib/clamav/*.c[lv]d >/dev/null 2>&1; then
    echo "fetching ClamAV signatures (freshclam)..."
    timeout 300 $sudo freshclam --quiet || true
  fi
  if ls /var/lib/clamav/*.c[lv]d >/dev/null 2>&1; then
    $sudo mkdir -p /run/clamav && $sudo chown clamav: /run/clamav
    $sudo /usr/sbin/clamd || true
  else
    echo "WARNING: clamd has no signatures (freshclam could not reach its mirror)." >&2
    echo "         gshare runs, but uploads stay 'pending' (visible only to their uploader)" >&2
    echo "         until clamd runs; see docs/clamav.md." >&2
  fi
}

case "${1:-}" in
  run)
    install_debian_packages "${RUN_PACKAGES[@]}"
    install_python_packages embedded
    start_system_clamd
    exec "$VENV/bin/gshare" serve
    ;;
  test)
    shift
    install_debian_packages "${TEST_PACKAGES[@]}"
    install_python_packages embedded,test
    install_node_packages
    # Two processes (pytest-xdist, each test file in one: see pyproject.toml): the whole suite
    # takes 12 minutes on a 2-core machine instead of 19. `-n 0` after it runs in one.
    exec "$VENV/bin/python" -m pytest -n 2 "$@"
    ;;
  *)
    echo "usage: ./dev.sh run | ./dev.sh test [pytest arguments]" >&2
    exit 2
    ;;
esac

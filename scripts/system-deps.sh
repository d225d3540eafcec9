#!/usr/bin/env bash
# Installs the Debian packages the project needs when they are missing:
# Pango for WeasyPrint, Chromium for the browser tests, poppler-utils (pdftoppm) to check
# rendered PDFs, Node/npm for the NHS.UK frontend, and the PostgreSQL client tools when
# the tests run against PostgreSQL.
set -euo pipefail

wanted=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation chromium poppler-utils)
command -v node >/dev/null 2>&1 || wanted+=(nodejs)
command -v npm >/dev/null 2>&1 || wanted+=(npm)
# pg_dump and pg_restore for the backup and restore test when the tests run on PostgreSQL.
case "${DATABASE_URL:-}" in postgres*) command -v pg_dump >/dev/null 2>&1 || wanted+=(postgresql-client) ;; esac
[ "${WITH_COMPOSE:-0}" = "1" ] && ! command -v docker-compose >/dev/null 2>&1 && wanted+=(docker-compose)

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "Installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

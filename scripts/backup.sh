#!/usr/bin/env bash
# Back up the database named by DATABASE_URL into one file.
#
#   scripts/backup.sh [FILE]
#
# PostgreSQL: pg_dump's custom format (compressed, restored whole or table by table
# with pg_restore; scripts/restore.sh restores it into a new database). The server
# keeps running and serving people while it is copied: pg_dump reads one consistent
# snapshot. SQLite (the demo): SQLite's online backup API, equally safe while the
# application runs.
#
# FILE defaults to $BACKUP_DIR/mentoring-<UTC date and time>.dump (.sqlite3 for
# SQLite); BACKUP_DIR defaults to var/backups. The file appears under its name only
# once it is complete and has been read back; it is readable by its owner only, since
# it holds personal data. With BACKUP_KEEP_DAYS set, backups made by this script
# (mentoring-*) in the same folder and older than that many days are then deleted.
#
# Needs pg_dump and pg_restore (Debian: postgresql-client, the server's major version
# or newer) for PostgreSQL, python3 for SQLite. Prints the backup's path.
set -euo pipefail
umask 077

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
url="${DATABASE_URL:-sqlite:///${VAR_DIR:-$root/var}/db.sqlite3}"

fail() {
  echo "backup: $*" >&2
  exit 1
}

case "$url" in
  postgres://* | postgresql://*) kind=postgres extension=dump ;;
  sqlite://*) kind=sqlite extension=sqlite3 ;;
  *) fail "DATABASE_URL must start with postgres://, postgresql:// or sqlite://" ;;
esac

file="${1:-${BACKUP_DIR:-$root/var/backups}/mentoring-$(date -u +%Y%m%dT%H%M%SZ).$extension}"
folder="$(dirname "$file")"
mkdir -p "$folder"
partial="$file.partial"
trap 'rm -f "$partial"' EXIT

if [ "$kind" = postgres ]; then
  command -v pg_dump >/dev/null || fail "pg_dump is not installed (Debian: apt-get install postgresql-client)"
  pg_dump --format=custom --file="$partial" --dbname="$url"
  # Read the archive's table of contents back: a truncated file fails here, not on the
  # day it is needed.
  pg_restore --list "$partial" >/dev/null || fail "the dump could not be read back"
else
  path="${url#sqlite://}"
  path="${path#/}"
  path="${path%%\?*}"
  [ -s "$path" ] || fail "no SQLite database at $path"
  "${PYTHON:-python3}" - "$path" "$partial" <<'PY'
import sqlite3
import sys

source = sqlite3.connect(sys.argv[1])
target = sqlite3.connect(sys.argv[2])
source.backup(target)
source.close()
result = target.execute("PRAGMA integrity_check").fetchone()[0]
target.close()
if result != "ok":
    sys.exit(f"backup: the copy failed its integrity check: {result}")
PY
fi

mv "$partial" "$file"
trap - EXIT

if [ -n "${BACKUP_KEEP_DAYS:-}" ]; then
  [[ "$BACKUP_KEEP_DAYS" =~ ^[0-9]+$ ]] || fail "BACKUP_KEEP_DAYS must be a whole number of days"
  find "$folder" -maxdepth 1 -type f \( -name 'mentoring-*.dump' -o -name 'mentoring-*.sqlite3' \) \
    -mtime "+$BACKUP_KEEP_DAYS" ! -path "$file" -delete
fi

echo "$file"

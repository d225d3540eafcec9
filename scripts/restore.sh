#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a new database.
#
#   scripts/restore.sh FILE [TARGET_DATABASE_URL]
#
# The target is TARGET_DATABASE_URL, or DATABASE_URL when it is not given. It must not
# hold any table: the script refuses a database that does, so a restore can never
# overwrite live data by mistake. Restore into a new database, check it, then point
# DATABASE_URL at it.
#
# PostgreSQL: the database is created when it does not exist (through the server's
# "postgres" database; where the role may not create databases, create it first).
# pg_restore runs in one transaction and stops at the first error, so a failed restore
# leaves the target empty. Objects are owned by the restoring role (--no-owner), so a
# backup restores on a server whose role names differ; statistics are rebuilt after.
# SQLite: the target file must not exist yet or be empty.
set -euo pipefail
umask 077

fail() {
  echo "restore: $*" >&2
  exit 1
}

[ $# -ge 1 ] && [ $# -le 2 ] || fail "usage: scripts/restore.sh FILE [TARGET_DATABASE_URL]"
file="$1"
url="${2:-${DATABASE_URL:-}}"
[ -s "$file" ] || fail "no backup at $file"
[ -n "$url" ] || fail "give TARGET_DATABASE_URL, or set DATABASE_URL"

case "$url" in
  postgres://* | postgresql://*)
    command -v pg_restore >/dev/null || fail "pg_restore is not installed (Debian: apt-get install postgresql-client)"
    base="${url%%\?*}"
    query="${url:${#base}}"
    name="${base##*/}"
    [[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] || fail "the target URL must end with a database name of letters, digits, _ or -"
    if ! psql "$url" -XqtAc "SELECT 1" >/dev/null 2>&1; then
      psql "${base%/*}/postgres$query" -XqtAc "CREATE DATABASE \"$name\"" >/dev/null ||
        fail "could not create database $name"
    fi
    tables="$(psql "$url" -XqtAc "SELECT count(*) FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%'")"
    [ "$tables" = "0" ] || fail "database $name is not empty ($tables tables); restore into a new, empty database"
    pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
      --dbname="$url" "$file"
    psql "$url" -XqtAc "ANALYZE" >/dev/null
    echo "Restored $file into database $name" >&2
    ;;
  sqlite://*)
    path="${url#sqlite://}"
    path="${path#/}"
    path="${path%%\?*}"
    [ ! -s "$path" ] || fail "$path already exists; restore into a new file"
    mkdir -p "$(dirname "$path")"
    partial="$path.partial"
    trap 'rm -f "$partial"' EXIT
    "${PYTHON:-python3}" - "$file" "$partial" <<'PY'
import sqlite3
import sys

source = sqlite3.connect(sys.argv[1])
target = sqlite3.connect(sys.argv[2])
try:
    source.backup(target)
except sqlite3.DatabaseError:
    sys.exit(f"restore: {sys.argv[1]} is not a SQLite backup (a .dump restores into PostgreSQL)")
source.close()
result = target.execute("PRAGMA integrity_check").fetchone()[0]
target.close()
if result != "ok":
    sys.exit(f"restore: the restored copy failed its integrity check: {result}")
PY
    mv "$partial" "$path"
    trap - EXIT
    echo "Restored $file into $path" >&2
    ;;
  *) fail "the target must start with postgres://, postgresql:// or sqlite://" ;;
esac

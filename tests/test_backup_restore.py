"""A backup restores.

scripts/backup.sh copies the suite's own database (pg_dump's custom format on
PostgreSQL, as in CI; SQLite's online backup API on a laptop), scripts/restore.sh puts
the copy into a new database, and every tenant-owned table holds as many rows in the
copy as in the original. The copy is dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.apps import apps
from django.db import connection

from mentoring.models import Relationship
from programmes.models import Organisation

from .factories_matching import RelationshipFactory

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def tenant_tables() -> list[str]:
    """The organisations, every table whose rows belong to one (the scoped models and
    their many-to-many tables), and the migrations the schema is at."""
    tables = {Organisation._meta.db_table, "django_migrations"}
    for model in apps.get_models():
        if hasattr(model._default_manager, "with_scopes_disabled"):
            tables.add(model._meta.db_table)
            for field in model._meta.local_many_to_many:
                tables.add(field.remote_field.through._meta.db_table)
    return sorted(tables)


def row_counts(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        # Table names come from the models' own metadata, never from input.
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608
        counts[table] = cursor.fetchone()[0]
    return counts


def database_url(name: str) -> str:
    """The suite's database, or another on the same server, as DATABASE_URL spells it."""
    settings = connection.settings_dict
    if not is_postgres():
        return f"sqlite:///{name}"
    credentials = quote(settings["USER"] or "", safe="")
    if settings["PASSWORD"]:
        credentials += ":" + quote(settings["PASSWORD"], safe="")
    server = settings["HOST"] or ""
    if settings["PORT"]:
        server += f":{settings['PORT']}"
    at = "@" if credentials else ""
    return f"postgres://{credentials}{at}{server}/{quote(name, safe='')}"


def run(script: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [shutil.which("bash"), str(SCRIPTS / script), *args],
        env=os.environ | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_row_counts(target: str, tables: list[str]) -> dict[str, int]:
    if is_postgres():
        settings = connection.settings_dict
        with psycopg.connect(
            dbname=target,
            user=settings["USER"] or None,
            password=settings["PASSWORD"] or None,
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
        ) as copy:
            return row_counts(copy.cursor(), tables)
    copy = sqlite3.connect(target)
    try:
        return row_counts(copy.cursor(), tables)
    finally:
        copy.close()


def drop(target: str) -> None:
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    else:
        Path(target).unlink(missing_ok=True)


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_new_database_with_every_row(cast, tmp_path):
    # Committed rows (this test is not wrapped in a transaction), so the backup sees them.
    RelationshipFactory(
        mentee=cast.mentee_record,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.GETTING_STARTED,
    )
    tables = tenant_tables()
    with connection.cursor() as cursor:
        original = row_counts(cursor, tables)
    assert original["programmes_organisation"] == 2
    assert original["mentoring_mentee"] == 3
    assert original["mentoring_relationship"] == 1

    source = connection.settings_dict["NAME"]
    backup = tmp_path / ("mentoring.dump" if is_postgres() else "mentoring.sqlite3")
    made = run("backup.sh", str(backup), env={"DATABASE_URL": database_url(source)})
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == str(backup)
    assert backup.stat().st_mode & 0o077 == 0, "a backup is readable by its owner only"

    target = f"{source[:50]}_restored" if is_postgres() else str(tmp_path / "restored.sqlite3")
    drop(target)
    try:
        restored = run("restore.sh", str(backup), database_url(target))
        assert restored.returncode == 0, restored.stderr
        assert copy_row_counts(target, tables) == original
    finally:
        drop(target)


@pytest.mark.django_db
def test_restore_refuses_a_database_that_already_holds_data(tmp_path):
    backup = tmp_path / "not-needed.dump"
    backup.write_bytes(b"never read: the target is checked first")
    refused = run("restore.sh", str(backup), database_url(connection.settings_dict["NAME"]))
    assert refused.returncode != 0
    assert "restore into a new" in refused.stderr

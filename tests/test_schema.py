"""Alembic: migrations build exactly the models' schema; start-up refuses an older or newer schema."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlmodel import SQLModel

from monitor.store.db import make_engine, open_db
from monitor.store.schema import alembic_config, current_revision, head_revision, schema_diff
from tests.support import run_cli


def test_migrations_build_exactly_the_models_schema(db_url):
    engine = open_db(db_url)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        diff = schema_diff(conn)
    assert diff == [], f"the models changed without a migration (add one under monitor/migrations): {diff}"
    engine.dispose()


def test_the_head_read_from_the_migration_files_is_alembics(db_url):
    """Start-up reads the head revision without Alembic; it must be the revision Alembic upgrades to."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = open_db(db_url)
    with engine.connect() as conn:
        assert current_revision(conn) == MigrationContext.configure(conn).get_current_revision() == head_revision()
    engine.dispose()


def test_database_made_before_migrations_is_adopted(tmp_path):
    url = f"sqlite:///{tmp_path / 'current.db'}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)  # what noticewatch did before it had migrations
    engine.dispose()
    engine = open_db(url)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    engine.dispose()


def test_database_made_before_migrations_at_an_older_schema_is_upgraded_in_place(site, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    config = site.write_config(tmp_path / "noticewatch.toml", database=url)
    refused = run_cli(config, "history", "ismt")
    assert refused.returncode == 3 and "run `noticewatch db upgrade`" in refused.stderr
    assert run_cli(config, "db", "upgrade").returncode == 0
    assert run_cli(config, "run", "--source", "ismt").returncode == 0


def test_older_schema_is_refused_until_db_upgrade_and_newer_always(site, tmp_path, db_url):
    config = site.write_config(tmp_path / "noticewatch.toml", database=db_url)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    refused = run_cli(config, "changes")
    assert refused.returncode == 3
    assert refused.stderr.count("\n") == 1 and "noticewatch db upgrade" in refused.stderr
    upgraded = run_cli(config, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert head_revision() in upgraded.stdout
    assert run_cli(config, "changes").returncode == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    newer = run_cli(config, "changes")
    assert newer.returncode == 3 and "newer" in newer.stderr and newer.stderr.count("\n") == 1
    engine.dispose()

"""Shared fixtures: settings in a temporary instance, and a migrated database.

The database is SQLite by default. With YUQING_TEST_DATABASE_URL set to a PostgreSQL server
URL, each test run creates its own database there (so parallel runs never collide) and the
same tests run against it; an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store import Base, Database
from store.migrate import upgrade
from tests.redis_queue import redis_prefix
from yuqing.bootstrap import sync_reference_data
from yuqing.context import AppContext
from yuqing.settings import Settings, load_settings

PG_URL = os.environ.get("YUQING_TEST_DATABASE_URL", "")


def pytest_report_header(config: pytest.Config) -> str:
    return f"yuqing database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str | None]:
    if not PG_URL:
        yield None
        return
    name = f"yuqing_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the suite must fail, not skip, without its PostgreSQL
        pytest.exit(f"PostgreSQL unreachable at {PG_URL}: {exc}", returncode=3)
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


prefix = pytest.fixture(redis_prefix, name="prefix")  # a Redis key prefix of the test's own


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating every time is slow)."""
    path = tmp_path_factory.mktemp("template") / "yuqing.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture
def database_url(tmp_path: Path, pg_database_url: str | None, sqlite_template: Path
                 ) -> Iterator[str]:
    if pg_database_url:
        engine = create_engine(pg_database_url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield pg_database_url
        return
    target = tmp_path / "instance" / "yuqing.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sqlite_template, target)
    yield f"sqlite:///{target}"


@dataclass(frozen=True)
class Prepared:
    """A database filled once (per module) and what its builder returned (ids, tokens)."""

    url: str
    data: Any


@contextmanager
def prepared_database(home: Path, pg_database_url: str | None, sqlite_template: Path,
                      build: Callable[[AppContext], Any]) -> Iterator[Prepared]:
    """A migrated database of its own, with reference data, filled by ``build`` once.

    For expensive fixed histories shared by a module's tests: pair it with
    ``prepared_url``. On PostgreSQL it is a database next to the run's own one, so the
    per-test truncation of ``database_url`` never touches it; dropped at the end.
    """
    home.mkdir(parents=True, exist_ok=True)
    name = None
    if pg_database_url:
        name = f"yuqing_prepared_{uuid.uuid4().hex[:10]}"
        admin = create_engine(pg_database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(pg_database_url).set(database=name).render_as_string(hide_password=False)
        db = Database(url)
        upgrade(db)
        db.dispose()
    else:
        shutil.copy(sqlite_template, home / "yuqing.db")
        url = f"sqlite:///{home / 'yuqing.db'}"
    app = AppContext(settings=make_settings(home, url))
    try:
        sync_reference_data(app.db, app.settings)
        data = build(app)
    finally:
        app.close()  # closing the last connection checkpoints SQLite's WAL into the file
    try:
        yield Prepared(url, data)
    finally:
        if name:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def prepared_url(prepared: Prepared, tmp_path: Path) -> str:
    """The prepared database for one test: SQLite gets its own copy of the file (the test may
    write); PostgreSQL shares the database itself, so only tests that read may use it."""
    if not prepared.url.startswith("sqlite:"):
        return prepared.url
    target = tmp_path / "instance" / "yuqing.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(prepared.url.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def make_settings(home: Path, database_url: str, **overrides: Any) -> Settings:
    environ = {"YUQING_DATABASE_URL": database_url}
    return load_settings(home, environ=environ, overrides=overrides or None)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "instance", database_url)


@pytest.fixture
def ctx(settings: Settings) -> Iterator[AppContext]:
    app = AppContext(settings=settings)
    sync_reference_data(app.db, settings)
    yield app
    app.close()


@pytest.fixture
def db(ctx: AppContext) -> Database:
    return ctx.db

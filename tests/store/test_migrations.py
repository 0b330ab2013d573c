from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from store import Base, Database
from store.migrate import current_revision, head_revision, upgrade


def test_migrations_build_exactly_the_models(database_url: str) -> None:
    db = Database(database_url)
    upgrade(db)  # already at head: a second upgrade is a no-op
    assert current_revision(db) == head_revision(db)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}),
                                Base.metadata)
    db.dispose()
    assert diff == []

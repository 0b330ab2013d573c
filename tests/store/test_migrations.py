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


def test_migration_0300_marks_unrouted_alerts_and_silently_failed_messages(
        database_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from store.migrate import alembic_config

    db = Database(database_url)
    cfg = alembic_config(db)
    try:
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0200_workflow")
        with db.engine.begin() as conn:
            for eid, severity in ((1, 2), (2, 1), (3, 3), (4, None)):
                conn.execute(text("INSERT INTO events (id, title, summary, severity, post_count,"
                                  " source_count, keywords, places, trend, created_at) VALUES"
                                  " (:id, '', '', :sev, 1, 1, '[]', '[]', '{}',"
                                  " '2026-03-02 01:00:00')"), {"id": eid, "sev": severity})
            # event 2's case missed a raise to I; event 3's case is up to date; 1 has none
            for cid, eid, severity in ((1, 2, 3), (2, 3, 3)):
                conn.execute(text("INSERT INTO cases (id, event_id, title, state, severity,"
                                  " urgent, outside, routing, overdue, escalation_level,"
                                  " extensions, supervised, version, sla_marks,"
                                  " extension_request, created_at, updated_at) VALUES (:id,"
                                  " :eid, 't', 'new', :sev, false, false, '{}', false, 0, 0,"
                                  " false, 1, '{}', '{}', '2026-03-02 01:00:00',"
                                  " '2026-03-02 01:00:00')"),
                             {"id": cid, "eid": eid, "sev": severity})
            # the old outbox's silent give-ups: 1 after 8 timeouts, 2 a refused address
            for nid in (1, 2):
                conn.execute(text("INSERT INTO notifications (id, idempotency_key, channel,"
                                  " recipient, subject, body, payload, status, attempts,"
                                  " created_at) VALUES (:id, :key, 'hook', 'x', 's', 'b', '{}',"
                                  " 'failed', 8, '2026-03-02 01:00:00')"),
                             {"id": nid, "key": f"k{nid}"})
                conn.execute(text("INSERT INTO deliveries (notification_id, at, ok, permanent,"
                                  " detail) VALUES (:id, '2026-03-02 01:00:00', false, :perm,"
                                  " '')"), {"id": nid, "perm": nid == 2})
        upgrade(db)
        with db.engine.connect() as conn:
            pending = set(conn.scalars(text("SELECT id FROM events WHERE routing_pending")))
            statuses = dict(conn.execute(text("SELECT id, status FROM notifications")).all())
        assert pending == {1, 2}
        assert statuses == {1: "expired", 2: "failed"}  # the next delivery pass announces 1
    finally:
        upgrade(db)
        with db.engine.begin() as conn:
            for table in ("deliveries", "notifications", "cases", "events"):
                conn.execute(text(f"DELETE FROM {table}"))
        db.dispose()

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


def test_migration_0510_fills_the_queue_sort_keys_of_existing_cases(database_url: str) -> None:
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import select, text

    from store import Case
    from store.migrate import alembic_config
    from store.models import NO_DUE

    db = Database(database_url)
    cfg = alembic_config(db)
    try:
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0420_triage")
        with db.engine.begin() as conn:
            # (state, severity, due_sign_at, due_first_response_at, due_answer_at)
            rows = [("dispatched", 2, "2026-03-02 03:00:00", None, "2026-03-05 01:00:00"),
                    ("new", None, None, None, "2026-03-04 01:00:00"),
                    ("responded", 1, None, None, "2026-03-04 01:00:00"),
                    ("closed", 3, None, None, None)]
            for i, (state, severity, sign, first, answer) in enumerate(rows, start=1):
                conn.execute(text("INSERT INTO events (id, title, summary, post_count,"
                                  " source_count, keywords, places, trend, routing_pending,"
                                  " created_at) VALUES (:id, '', '', 1, 1, '[]', '[]', '{}',"
                                  " false, '2026-03-02 01:00:00')"), {"id": i})
                conn.execute(text("INSERT INTO cases (id, event_id, title, state, severity,"
                                  " urgent, outside, routing, overdue, escalation_level,"
                                  " extensions, supervised, version, sla_marks,"
                                  " extension_request, due_sign_at, due_first_response_at,"
                                  " due_answer_at, created_at, updated_at) VALUES (:id, :id,"
                                  " 't', :state, :sev, false, false, '{}', false, 0, 0, false,"
                                  " 1, '{}', '{}', :sign, :first, :answer,"
                                  " '2026-03-02 01:00:00', '2026-03-02 01:00:00')"),
                             {"id": i, "state": state, "sev": severity, "sign": sign,
                              "first": first, "answer": answer})
        upgrade(db)
        with db.session() as s:
            keys = {c.id: (c.queue_open, c.queue_severity, c.queue_due_at)
                    for c in s.scalars(select(Case))}
        assert keys == {
            1: (True, 2, datetime(2026, 3, 2, 3, 0, tzinfo=UTC)),  # signing is what is due
            2: (True, 9, datetime(2026, 3, 4, 1, 0, tzinfo=UTC)),  # no level sorts last
            3: (True, 1, NO_DUE),  # responded: open, nothing due from the unit now
            4: (False, 3, NO_DUE),
        }
    finally:
        upgrade(db)
        db.dispose()

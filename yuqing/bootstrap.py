"""Bring a database up to date: migrations, then the reference data from configuration."""

from __future__ import annotations

from sqlalchemy import select

from store import Database, Jurisdiction, Source, Unit
from store.migrate import upgrade
from yuqing.settings import Place, Settings


def init_database(db: Database, settings: Settings) -> None:
    upgrade(db)
    sync_reference_data(db, settings)


def _places(settings: Settings) -> list[tuple[str, str, str, str | None, list[str]]]:
    j = settings.jurisdictions
    rows: list[tuple[str, str, str, str | None, list[str]]] = []
    parent: str | None = None
    for p in j.home.parents:
        rows.append((p.code, p.name, p.level, parent, list(p.aliases)))
        parent = p.code

    def walk(place: Place, parent_code: str | None) -> None:
        rows.append((place.code, place.name, place.level, parent_code, list(place.aliases)))
        for child in place.children:
            walk(child, place.code)

    walk(j.home, parent)
    known = {r[0] for r in rows}
    for foreign in ([j.upper] if j.upper else []) + list(j.neighbours):
        if foreign.code not in known:
            level = "city" if foreign.code.endswith("00") else "district"
            rows.append((foreign.code, foreign.name, level, None, []))
            known.add(foreign.code)
    return rows


def sync_reference_data(db: Database, settings: Settings) -> None:
    """Upsert jurisdictions, units and sources so the database matches configuration.

    Units and sources that left the configuration are deactivated, never deleted: cases and
    posts still point at them.
    """
    with db.session() as session:
        existing_places = {j.code: j for j in session.scalars(select(Jurisdiction))}
        for code, name, level, parent, aliases in _places(settings):
            row = existing_places.get(code) or Jurisdiction(code=code)
            row.name, row.level, row.parent_code, row.aliases = name, level, parent, aliases
            session.add(row)

        units = {u.code: u for u in session.scalars(select(Unit))}
        configured = set()
        for cfg in settings.units.units:
            unit = units.get(cfg.code) or Unit(code=cfg.code)
            unit.name, unit.short_name, unit.kind = cfg.name, cfg.short_name or cfg.name, cfg.kind
            unit.jurisdiction_code, unit.duties = cfg.jurisdiction, list(cfg.duties)
            unit.leader = cfg.leader.model_dump() if cfg.leader else {}
            unit.contacts = cfg.contacts.model_dump()
            unit.active = True
            session.add(unit)
            configured.add(cfg.code)
        for code, unit in units.items():
            if code not in configured:
                unit.active = False

        sources = {s.key: s for s in session.scalars(select(Source))}
        configured = set()
        for cfg in settings.sources.sources:
            src = sources.get(cfg.key) or Source(key=cfg.key)
            src.name, src.kind, src.authority = cfg.name, cfg.kind, cfg.authority
            src.source_kind = cfg.source_kind or _default_source_kind(cfg.kind)
            src.default_place, src.enabled = cfg.default_place, cfg.enabled
            src.config = cfg.model_dump(mode="json")
            session.add(src)
            configured.add(cfg.key)
        for key, src in sources.items():
            if key not in configured and src.kind != "import":
                src.enabled = False


def _default_source_kind(kind: str) -> str:
    return {"feed": "news", "html": "news", "json_api": "social", "board": "board",
            "import": "import"}.get(kind, "")

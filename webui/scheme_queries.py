"""Reading and writing monitoring schemes for the console; validation is routing.schemes'."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.schemes import Known, Problem, SchemeSpec, label_of, validate_scheme
from store import PostTag, Scheme


class SchemeInvalid(ValueError):
    """The form or JSON did not validate; ``problems`` carry paths and Chinese reasons."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("；".join(f"{label_of(p.path)}：{p.reason}" if p.path else p.reason
                                  for p in problems))


def known() -> Known:
    return current_app.config.get("YUQING_SCHEME_KNOWN") or Known()


def yaml_schemes() -> list[dict[str, Any]]:
    """Schemes from schemes.yaml (read-only in the console): [{key, ...spec}]."""
    source = current_app.config.get("YUQING_YAML_SCHEMES")
    return list(source() if callable(source) else source or [])


def _lines(value: str) -> list[str]:
    return [x.strip() for x in value.replace("，", ",").replace("\n", ",").split(",") if x.strip()]


def form_data(form: Mapping[str, Any]) -> dict[str, Any]:
    """The console form as the YAML shape, so both go through one validation."""
    def many(name: str) -> list[str]:
        getlist = getattr(form, "getlist", None)
        values = getlist(name) if getlist else form.get(name) or []
        return [v for v in values if v]

    subscribers = []
    for line in str(form.get("subscribers", "")).splitlines():
        parts = line.strip().split(None, 1)
        if parts:
            subscribers.append({"channel": parts[0], "to": parts[1] if len(parts) > 1 else ""})
    data: dict[str, Any] = {
        "name": form.get("name", ""), "owner": form.get("owner", ""),
        "query": form.get("query", ""), "sources": _lines(str(form.get("sources", ""))),
        "topics": many("topics"), "places": many("places"),
        "severities": many("severities"), "tag": bool(form.get("tag")),
        "alert": {"mode": form.get("alert_mode") or "off",
                  "count": form.get("alert_count") or 5,
                  "minutes": form.get("alert_minutes") or 60},
        "subscribers": subscribers, "open_case": bool(form.get("open_case")),
        "case_severity": form.get("case_severity") or 4,
    }
    return data


def check(data: Mapping[str, Any]) -> SchemeSpec:
    spec, problems = validate_scheme(data, known())
    if spec is None:
        raise SchemeInvalid(problems)
    return spec


def _store_spec(spec: SchemeSpec) -> dict[str, Any]:
    return spec.model_dump(mode="json", exclude={"name", "owner", "enabled"})


def list_schemes(session: Session) -> list[dict[str, Any]]:
    counts = dict(session.execute(select(PostTag.scheme_key, func.count(PostTag.id))
                                  .group_by(PostTag.scheme_key)).all())
    rows = [{"id": r.id, "key": r.key, "name": r.name, "owner": r.owner, "enabled": r.enabled,
             "origin": "console", **r.spec, "matched": counts.get(r.key, 0),
             "updated_at": r.updated_at.isoformat(), "updated_by": r.updated_by}
            for r in session.scalars(select(Scheme).order_by(Scheme.id))]
    rows += [{"id": None, **s, "origin": "yaml", "matched": counts.get(s["key"], 0),
              "updated_at": None, "updated_by": ""} for s in yaml_schemes()]
    return rows


def get(session: Session, scheme_id: int) -> Scheme | None:
    return session.get(Scheme, scheme_id)


def create(session: Session, spec: SchemeSpec, who: str, now: datetime) -> Scheme:
    row = Scheme(key="", name=spec.name, owner=spec.owner, enabled=spec.enabled,
                 spec=_store_spec(spec), created_at=now, updated_at=now, updated_by=who)
    session.add(row)
    session.flush()
    row.key = f"console-{row.id}"  # YAML keys have no "-": the two never collide
    return row


def update(row: Scheme, spec: SchemeSpec, who: str, now: datetime) -> None:
    row.name, row.owner, row.enabled = spec.name, spec.owner, spec.enabled
    row.spec, row.updated_at, row.updated_by = _store_spec(spec), now, who


def set_enabled(row: Scheme, enabled: bool, who: str, now: datetime) -> None:
    row.enabled, row.updated_at, row.updated_by = enabled, now, who


_TAGGING = select(Scheme.key, Scheme.name, Scheme.spec)  # built once: every queue page asks


def tag_names(session: Session) -> dict[str, str]:
    """scheme key -> name, for schemes whose matches are shown as tags."""
    names = {key: name for key, name, spec in session.connection().execute(_TAGGING)
             if (spec or {}).get("tag", True)}
    names.update({s["key"]: s["name"] for s in yaml_schemes() if s.get("tag", True)})
    return names


def tags_of_posts(session: Session, post_ids: list[int]) -> dict[int, list[str]]:
    if not post_ids:
        return {}
    names = tag_names(session)
    out: dict[int, list[str]] = {}
    for post_id, key in session.execute(select(PostTag.post_id, PostTag.scheme_key)
                                        .where(PostTag.post_id.in_(post_ids))
                                        .order_by(PostTag.id)):
        if key in names:
            out.setdefault(post_id, []).append(names[key])
    return out

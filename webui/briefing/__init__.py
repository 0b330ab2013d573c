"""Briefings (舆情日报 / 周报 / 专报): build one, render it, keep the files made by the job.

The page, the downloads, the CLI and the scheduled job all come through ``build_document``
and ``render``: figures from ``routing.reports``, laid out once (``document``), written as
HTML, DOCX or PDF (``html``, ``writers``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from routing.reports.briefing import BriefingNotFound, period_briefing
from routing.reports.periods import Period, preset
from routing.reports.special import event_briefing
from webui.briefing.document import Document, event_document, period_document

KINDS = {"daily": "舆情日报", "weekly": "舆情周报", "event": "舆情专报"}
FORMATS = ("html", "docx", "pdf")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf", "html": "text/html; charset=utf-8"}
# the response report for a period: (session, period, now, unit_codes) ->
# build_response_report(...); unit_codes None: every unit (the reports' access rule)
ResponseReport = Callable[[Session, Period, datetime, list[str] | None], Mapping[str, Any]]
FILE_NAME = re.compile(r"^(daily|weekly|event)-([0-9A-Za-z_-]{1,40})\.(html|docx|pdf)$")

__all__ = [
    "FORMATS",
    "KINDS",
    "MEDIA_TYPES",
    "BriefingError",
    "BriefingNotFound",
    "BriefingSetup",
    "build_document",
    "build_figures",
    "default_period",
    "file_stem",
    "layout",
    "list_files",
    "period_for",
    "render",
    "save_files",
]


class BriefingError(ValueError):
    """Bad briefing input (message in Chinese, safe to show)."""


@dataclass(frozen=True)
class BriefingSetup:
    """What a briefing needs from the installation (built from settings by the wiring)."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    topics: Mapping[str, str] = field(default_factory=dict)
    home_name: str = ""
    home_code: str = ""
    issuer: str = "舆情监测与回应协同平台"
    response: ResponseReport | None = None
    folder: Path | None = None  # where the job keeps generated files


def period_for(kind: str, day: date) -> Period:
    """The 日报 covers ``day``; the 周报 the Monday–Sunday week holding ``day``."""
    if kind == "daily":
        return Period(day, day)
    if kind == "weekly":
        monday = day - timedelta(days=day.weekday())
        return Period(monday, monday + timedelta(days=6))
    raise BriefingError(f"未知的简报类型「{kind}」")


def default_period(kind: str, today: date) -> Period:
    """What the job produces on ``today``: yesterday's 日报, last week's 周报. Without the
    preset's name: a kept file read next month must not say 上周."""
    chosen = preset("yesterday" if kind == "daily" else "last_week", today)
    return Period(chosen.start, chosen.end)


def parse_day(value: str | None, today: date, kind: str) -> Period:
    if not value:
        return default_period(kind, today)
    try:
        day = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise BriefingError("日期格式应为 YYYY-MM-DD") from exc
    if not 2000 <= day.year <= 2100:
        raise BriefingError("日期超出可统计范围（2000–2100 年）")
    return period_for(kind, day)


def build_figures(session: Session, setup: BriefingSetup, kind: str, *, now: datetime,
                  period: Period | None = None, event_id: int | None = None,
                  unit_codes: list[str] | None = None) -> dict[str, Any]:
    """The figures of one briefing (what the API returns and the layout reads).

    ``unit_codes`` limits the units' figures (response performance, overdue cases) as the
    reports do for the same viewer (``routing.reports.access.report_scope``)."""
    if kind == "event":
        if event_id is None:
            raise BriefingError("专报需要事件编号")
        return event_briefing(session, event_id, tz=setup.tz, now=now, topics=setup.topics)
    if kind not in ("daily", "weekly"):
        raise BriefingError(f"未知的简报类型「{kind}」")
    if period is None:
        period = default_period(kind, now.astimezone(setup.tz).date())
    report = setup.response(session, period, now, unit_codes) if setup.response else None
    return period_briefing(session, period, kind=kind, tz=setup.tz, now=now,
                           topics=setup.topics, home_code=setup.home_code, response=report,
                           unit_codes=unit_codes)


def layout(fig: Mapping[str, Any], setup: BriefingSetup) -> Document:
    if fig["kind"] == "event":
        return event_document(fig, home=setup.home_name, issuer=setup.issuer)
    return period_document(fig, home=setup.home_name, issuer=setup.issuer)


def build_document(session: Session, setup: BriefingSetup, kind: str, *, now: datetime,
                   period: Period | None = None, event_id: int | None = None) -> Document:
    return layout(build_figures(session, setup, kind, now=now, period=period,
                                event_id=event_id), setup)


def render(doc: Document, fmt: str) -> bytes:
    if fmt == "html":
        from webui.briefing.html import standalone_html

        return standalone_html(doc).encode()
    if fmt not in FORMATS:
        raise BriefingError(f"不支持的格式「{fmt}」，可选：{'、'.join(FORMATS)}")
    from webui.briefing.writers import render as write

    return write(doc, fmt)


def file_stem(kind: str, period: Period | None = None, event_id: int | None = None,
              now: datetime | None = None) -> str:
    if kind == "event":
        return f"event-{event_id}-{now:%Y%m%d%H%M}" if now else f"event-{event_id}"
    assert period is not None
    return f"{kind}-{period.start:%Y-%m-%d}"


def download_name(doc: Document, fmt: str) -> str:
    clean = re.sub(r"[\\/:*?\"<>|\s\x00-\x1f\x7f]+", "_", f"{doc.title}_{doc.subtitle}")[:80]
    return f"{clean}.{fmt}"


def save_files(folder: Path, stem: str, doc: Document, formats: list[str]) -> list[Path]:
    """Write each format beside the others; a file is written whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(render(doc, fmt))
        tmp.replace(path)
        out.append(path)
    return out


def list_files(folder: Path | None) -> list[dict[str, Any]]:
    """Generated briefings, newest first, grouped by briefing: {stem, kind, label, files}."""
    if folder is None or not folder.is_dir():
        return []
    groups: dict[str, dict[str, Any]] = {}
    for path in folder.iterdir():
        found = FILE_NAME.match(path.name)
        if not found or not path.is_file():
            continue
        kind, key, fmt = found.groups()
        group = groups.setdefault(f"{kind}-{key}", {
            "stem": f"{kind}-{key}", "kind": kind, "kind_name": KINDS[kind], "key": key,
            "files": [], "mtime": 0.0})
        stat = path.stat()
        group["files"].append({"name": path.name, "format": fmt, "size": stat.st_size})
        group["mtime"] = max(group["mtime"], stat.st_mtime)
    for g in groups.values():
        g["files"].sort(key=lambda f: FORMATS.index(f["format"]))
    return sorted(groups.values(), key=lambda g: (g["key"], g["mtime"]), reverse=True)


def safe_file(folder: Path | None, name: str) -> Path | None:
    """The stored file of that exact name, or None (no path tricks: names must match)."""
    if folder is None or not FILE_NAME.match(name):
        return None
    path = folder / name
    return path if path.is_file() else None

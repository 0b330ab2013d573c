"""The admin desk's edits of routing, taxonomy, severity, SLA and channels (系统管理 → 规则与参数).

Same storage as the unit desk (yuqing/admin_units.py): the console writes
``<home>/console/<file>.yaml``, merged key by key over the shipped and instance YAML by the
settings loader; taxonomy topics and channels are keyed by their ``key`` / ``name`` so an
edit of one topic's keywords overrides that topic only. Every edit is validated by loading
the whole configuration with it (``reload_settings``), so a form refuses exactly what the
YAML refuses, with the loader's key path and message. A good edit is written atomically,
recorded as a ``ConfigChange`` row (before/after of each changed key) and handed to the
running context; the other processes pick it up by the console files' stamp.

The form is derived from the file's data: a scalar is one input (written as in YAML), a list
of plain values one comma-separated input, a nested mapping one input per leaf, and a list
of records (routing overrides) a YAML text area.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from routing.dryrun import DryRun, compare
from store import ConfigChange, Post
from store.validation import location
from yuqing.casework import post_facts
from yuqing.context import AppContext
from yuqing.routing_setup import routing_config_from_settings
from yuqing.settings import (
    CONFIG_FILES,
    KEYED_LISTS,
    ConfigError,
    Settings,
    _console_edits,
    _deep_merge,
    _read_yaml,
    console_path,
    merge_console,
    reload_settings,
    shipped_config_dir,
)
from yuqing.settings_console import console_lock, write_console_file

# the files this desk edits, with their titles (the page's tabs)
FILES: dict[str, str] = {"routing": "分派规则", "taxonomy": "领域与关键词",
                         "severity": "预警等级权重与阈值", "sla": "处置时限", "channels": "通知渠道"}
DRY_RUN_POSTS = 100
_SPLIT = re.compile(r"[,，、;；\n]+")
HEADER = ("# 控制台（系统管理 → 规则与参数）写入的修改，逐项覆盖随附与实例的 {name}.yaml。\n"
          "# 可审阅、可纳入版本管理；手工修改后请运行 yuqing config check。\n")


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


@dataclass
class FormField:
    """One input of a settings form: where it sits in the file and how it is written."""

    name: str  # the form field's name: the key path joined with "/"
    path: tuple[Any, ...]  # keys into the file's data (a keyed list's record by its key)
    loc: str  # the loader's key path (topics[3].keywords): problems highlight by it
    kind: str  # scalar / list / yaml
    text: str  # the value as shown
    typed_items: bool = False  # list items are YAML values, not strings
    errors: list[str] = field(default_factory=list)


# ---- the file's data as the loader sees it -------------------------------------------------

def raw_file(settings: Settings, name: str,
             console: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Shipped + instance YAML (+ code overrides) + console edits of one file, unvalidated."""
    problems: list[Any] = []
    data = _read_yaml(shipped_config_dir() / f"{name}.yaml", problems) or {}
    local = settings.home / f"{name}.yaml"
    if local.is_file():
        data = _deep_merge(data, _read_yaml(local, problems) or {})
    recipe = settings._recipe or {}
    overrides = recipe.get("overrides") or {}
    if name in overrides:
        data = _deep_merge(data, dict(overrides[name]))
    edits = _console_edits(settings.home, name, console, problems)
    if edits:
        data = merge_console(name, data, edits)
    return data


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10_000)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _parse_scalar(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # the model says what it should be


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def form_fields(name: str, data: dict[str, Any]) -> list[FormField]:
    out: list[FormField] = []
    keyed = KEYED_LISTS.get(name)

    def walk(value: Any, path: tuple[Any, ...], loc: tuple[Any, ...]) -> None:
        key = "/".join(str(p) for p in path)
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, (*path, k), (*loc, k))
        elif isinstance(value, list) and all(_is_scalar(v) for v in value):
            typed = bool(value) and not all(isinstance(v, str) for v in value)
            shown = [_scalar_text(v) if typed else str(v) for v in value]
            out.append(FormField(key, path, location(loc), "list", "、".join(shown), typed))
        elif _is_scalar(value):
            out.append(FormField(key, path, location(loc), "scalar", _scalar_text(value)))
        else:
            text = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=100)
            out.append(FormField(key, path, location(loc), "yaml", text))

    for top, value in data.items():
        if keyed and top == keyed[0] and isinstance(value, list):
            id_key = keyed[1]
            for i, record in enumerate(value):
                if not isinstance(record, dict) or id_key not in record:
                    continue
                for k, v in record.items():
                    if k != id_key:
                        walk(v, (top, record[id_key], k), (top, i, k))
            continue
        walk(value, (top,), (top,))
    return out


def _read_field(f: FormField, text: str) -> tuple[Any, Problem | None]:
    if f.kind == "scalar":
        return _parse_scalar(text), None
    if f.kind == "list":
        items = [t.strip() for t in _SPLIT.split(text) if t.strip()]
        return ([_parse_scalar(t) for t in items] if f.typed_items else items), None
    try:
        return yaml.safe_load(text), None
    except yaml.YAMLError as exc:
        return None, Problem(f.loc, f"YAML 语法错误：{exc}")


def _put(data: dict[str, Any], name: str, path: tuple[Any, ...], value: Any) -> None:
    node: Any = data
    keyed = KEYED_LISTS.get(name)
    for i, part in enumerate(path[:-1]):
        if i == 1 and keyed and path[0] == keyed[0]:
            node = next(r for r in node if isinstance(r, dict) and r.get(keyed[1]) == part)
        else:
            node = node[part]
    node[path[-1]] = value


def diff(base: Any, new: Any) -> Any:
    """What ``new`` changes over ``base``, as an override merged key by key (None: nothing)."""
    if isinstance(base, dict) and isinstance(new, dict):
        out = {}
        for k, v in new.items():
            if k not in base:
                out[k] = v
                continue
            d = diff(base[k], v)
            if d is not None:
                out[k] = d
        return out or None
    return None if base == new else new


def console_edits(name: str, base: dict[str, Any], new: dict[str, Any],
                  current: Mapping[str, Any]) -> dict[str, Any]:
    """The console file's content that turns ``base`` into ``new``."""
    keyed = KEYED_LISTS.get(name)
    if not keyed:
        return diff(base, new) or {}
    list_key, id_key = keyed
    out = diff({k: v for k, v in base.items() if k != list_key},
               {k: v for k, v in new.items() if k != list_key}) or {}
    before = {r.get(id_key): r for r in base.get(list_key) or [] if isinstance(r, dict)}
    records = {}
    for record in new.get(list_key) or []:
        if isinstance(record, dict):
            d = diff(before.get(record.get(id_key), {}), record)
            if d:
                records[record.get(id_key)] = {k: v for k, v in d.items() if k != id_key}
    if records:
        out[list_key] = records
    if current.get("retired"):
        out["retired"] = current["retired"]
    return out


def _flat(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {f.name: _read_field(f, f.text)[0] for f in form_fields(name, data)}


# ---- the desk ------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What a save or dry run gave: problems (nothing written) or the comparison."""

    problems: list[Problem] = field(default_factory=list)
    dry_run: DryRun | None = None
    saved: bool = False
    unchanged: bool = False


class SettingsDesk:
    """What the console's settings pages need; ``webui`` sees only these methods."""

    files = FILES

    def __init__(self, ctx: AppContext):
        self.ctx = ctx

    @property
    def settings(self) -> Settings:
        return self.ctx.fresh_settings()

    def fields(self, name: str) -> list[FormField]:
        return form_fields(name, raw_file(self.settings, name))

    def stored(self, name: str) -> str:
        """The console file's text ('' when the console changed nothing in this file)."""
        path = console_path(self.settings.home, name)
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    def candidate(self, name: str, form: Mapping[str, str]
                  ) -> tuple[list[FormField], dict[str, Any], list[Problem]]:
        """The form's values over the effective data: fields (as typed), edits, problems."""
        settings = self.settings
        effective = raw_file(settings, name)
        base = raw_file(settings, name, console={name: {}})
        fields = form_fields(name, effective)
        new = copy.deepcopy(effective)
        problems: list[Problem] = []
        for f in fields:
            if f.name not in form:
                continue
            f.text = str(form[f.name])[:100_000]
            value, problem = _read_field(f, f.text)
            if problem:
                problems.append(problem)
                continue
            _put(new, name, f.path, value)
        current = _console_edits(settings.home, name, None, []) or {}
        return fields, console_edits(name, base, new, current), problems

    def validate(self, name: str, edits: dict[str, Any]) -> tuple[Settings | None, list[Problem]]:
        try:
            return reload_settings(self.settings, console={name: edits}), []
        except ConfigError as exc:
            return None, [Problem(p.path, p.reason) for p in exc.problems]

    def submit(self, name: str, form: Mapping[str, str], *, save: bool,
               actor: tuple[int | None, str]) -> tuple[list[FormField], Outcome]:
        """Validate the form; then either compare the routing (dry run) or save it."""
        if name not in FILES:
            raise KeyError(name)
        with console_lock(self.settings.home):
            fields, edits, problems = self.candidate(name, form)
            candidate = None
            if not problems:
                candidate, problems = self.validate(name, edits)
            if problems or candidate is None:
                _mark(fields, problems)
                return fields, Outcome(problems=problems)
            if not save:
                return fields, Outcome(dry_run=self.dry_run(candidate))
            before = _flat(raw_file(self.settings, name), name)
            after = _flat(raw_file(candidate, name, console={name: edits}), name)
            changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            if not changed:
                return fields, Outcome(unchanged=True)
            _write(console_path(self.settings.home, name), edits, HEADER.format(name=name))
            with self.ctx.db.session() as s:
                s.add(ConfigChange(at=self.ctx.now(), user_id=actor[0], username=actor[1],
                                   file=name, key=name, action="edit",
                                   before={k: before.get(k) for k in changed},
                                   after={k: after.get(k) for k in changed}))
            self.ctx.use_settings(reload_settings(self.settings))
            return self.fields(name), Outcome(saved=True)

    # ---- dry run ---------------------------------------------------------------------------

    def dry_run(self, candidate: Settings, limit: int = DRY_RUN_POSTS) -> DryRun:
        """The last ``limit`` analysed posts decided under the current and the edited rules."""
        current_cfg = routing_config_from_settings(self.settings)
        edited_cfg = routing_config_from_settings(candidate)
        now = self.ctx.now()
        items: list[tuple[str, str, Any, datetime]] = []
        with self.ctx.db.session() as s:
            posts = s.scalars(select(Post).where(Post.analyzed_at.is_not(None))
                              .options(selectinload(Post.places), selectinload(Post.source))
                              .order_by(Post.id.desc()).limit(limit)).all()
            for p in posts:
                start = p.published_at or now
                items.append((str(p.id), p.title or (p.text or "")[:60], post_facts(p), start))
        return compare(items, current_cfg, edited_cfg)

    # ---- history ---------------------------------------------------------------------------

    def history(self, name: str, limit: int = 50) -> list[ConfigChange]:
        with self.ctx.db.session() as s:
            rows = s.scalars(select(ConfigChange).where(ConfigChange.file == name)
                             .order_by(ConfigChange.id.desc()).limit(limit)).all()
            s.expunge_all()
            return list(rows)


_NAMED = re.compile(r"^([A-Za-z_][\w.\[\]]*)：")  # "severity.thresholds.1：应为数字"


def _dotted(path: str) -> str:
    return re.sub(r"\[(\w+)\]", r".\1", path)


def _mark(fields: list[FormField], problems: list[Problem]) -> None:
    """Attach each problem to the fields it concerns (by the loader's key path).

    A problem on a whole section (``topics``: a duplicate) stays on top of the form rather
    than lighting up every field below it.
    """
    for p in problems:
        named = _NAMED.match(p.reason)  # a component's check names the key in its reason
        path = _dotted(named.group(1) if named else p.path)
        if not path:
            continue
        hits = [f for f in fields
                if (loc := _dotted(f.loc)) == path or path.startswith(loc + ".")
                or loc.startswith(path + ".")]
        if len(hits) <= 6:
            for f in hits:
                f.errors.append(p.reason)


# ---- writing (the same console folder and lock as the unit desk) ---------------------------

def _write(path: Path, edits: dict[str, Any], header: str) -> None:
    if not edits:  # back to the YAML: no console file at all
        if path.exists():
            path.unlink()
        return
    write_console_file(path, edits, header)


# ---- export --------------------------------------------------------------------------------

_SECRET = re.compile(r"(secret|password|token)", re.I)
_URL_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]+@")


def _redact(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, str) and value and _SECRET.search(key):
        return "******"
    if isinstance(value, str):
        return _URL_PASSWORD.sub(r"\1******@", value)
    return value


def export(settings: Settings, folder: Path) -> list[Path]:
    """Write the effective configuration (shipped + instance + console), one file per section.

    The folder can serve as a home for ``yuqing --home FOLDER config check``: each file is
    complete, so it gives the same configuration over the shipped defaults. Secrets
    (keys named secret/password/token, passwords in URLs) are masked.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in CONFIG_FILES:
        data = _redact(raw_file(settings, name))
        if name == "settings":
            data.pop("secret_key", None)  # kept in the instance, never in a reviewed file
        path = folder / f"{name}.yaml"
        path.write_text(f"# yuqing 生效配置导出：{name}.yaml（随附 + 实例 + 控制台修改）\n"
                        + yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        written.append(path)
    return written

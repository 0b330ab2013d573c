"""The admin desk's sources: health, edits through the console override, crawl now, test.

Edits go where the unit desk's go (``<home>/console/sources.yaml``, merged key by key over the
shipped and instance sources.yaml by ``yuqing.settings.merge_console``), validated by loading
the whole configuration with the edit, so the form refuses exactly what sources.yaml would,
with the same messages; every change is a ``ConfigChange`` row. ``yuqing run`` picks the
edit up on its next source sync (``yuqing.crawling.sync_sources``).

"Crawl now" runs ``crawl_source`` on a worker thread of its own; the crawl itself happens in
the child process ``crawl_source`` spawns, never in a web request. The page polls ``job()``.
"""

from __future__ import annotations

import threading
import uuid
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from crawlers.preview import preview_in_child
from crawlers.sources import SourceError
from store import ConfigChange, Post, Source
from yuqing.admin_units import Problem, UnitDesk
from yuqing.context import AppContext
from yuqing.crawling import crawl_source, source_health, source_spec
from yuqing.settings import ConfigError, Settings, SourceConfig, console_path, reload_settings
from yuqing.settings_console import read_console_file, write_console_file

HEADER = ("# 控制台（系统管理 → 信息源）写入的信息源修改，按 key 逐项覆盖 sources.yaml。\n"
          "# 可审阅、可纳入版本管理；手工修改后请运行 yuqing config check。\n")
STALE_AFTER = timedelta(days=1)  # an enabled source without a good run for this long is stale
TEST_TIMEOUT = 45.0  # seconds a test fetch may take before its child process is killed
FINISHED_JOBS_KEPT = 50


class SourceDesk:
    """What the console's source pages need; ``webui`` sees only these methods."""

    FILE = "sources"

    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        # the unit desk owns the console folder's lock (one editor at a time, any file)
        self._units = UnitDesk(ctx)
        self._jobs: dict[str, dict[str, Any]] = {}
        self._jobs_lock = threading.Lock()

    # ---- reading ---------------------------------------------------------------------------

    def sources(self) -> list[dict[str, Any]]:
        """Every configured source with its settings, health and last run."""
        settings = self.settings
        configs = {s.key: s for s in settings.sources.sources}
        now = self.ctx.now()
        rows = []
        for row in source_health(settings, self.ctx.db):
            cfg = configs[row["key"]]
            last_ok = row["last_success_at"]
            late = last_ok is None or _aware(last_ok) < now - STALE_AFTER
            rows.append({**row, "schedule": cfg.schedule, "start_urls": list(cfg.start_urls),
                         "path": cfg.path, "stale": row["flagged"] or (
                             cfg.enabled and row["last_run_at"] is not None and late)})
        return rows

    def source(self, key: str) -> dict[str, Any] | None:
        found = next((s for s in self.settings.sources.sources if s.key == key), None)
        return found.model_dump(mode="json") if found else None

    @property
    def settings(self) -> Settings:
        return self.ctx.fresh_settings()

    def places(self) -> list[dict[str, Any]]:
        return self._units.places()

    def changes(self, key: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        with self.ctx.db.session() as s:
            q = select(ConfigChange).where(ConfigChange.file == self.FILE)
            if key is not None:
                q = q.where(ConfigChange.key == key)
            return [{"at": c.at, "username": c.username, "key": c.key, "action": c.action,
                     "before": dict(c.before or {}), "after": dict(c.after or {})}
                    for c in s.scalars(q.order_by(ConfigChange.id.desc()).limit(limit))]

    # ---- writing ---------------------------------------------------------------------------

    def save(self, key: str, values: dict[str, Any], *, create: bool,
             actor: tuple[int | None, str]) -> list[Problem]:
        """Create or edit one source from ``values`` shaped like a sources.yaml record."""
        with self._locked():
            edits = self._edits()
            current = self.source(key)
            if create and current is not None:
                return [Problem("sources", f"信息源 {key!r} 重复定义")]
            if not create and current is None:
                return [Problem("sources", f"没有名为 {key!r} 的信息源（见 sources.yaml）")]
            base = self._base_sources().get(key) or {}
            changed = {k: v for k, v in values.items() if k != "key" and base.get(k) != v}
            if base and not changed:
                edits.get("sources", {}).pop(key, None)
            else:
                edits.setdefault("sources", {})[key] = changed
            problems = self._apply(edits)
            if not problems:
                self._audit(actor, key, "create" if create else "edit", current or {},
                            self.source(key) or {})
            return problems

    def set_enabled(self, key: str, enabled: bool, actor: tuple[int | None, str]
                    ) -> list[Problem]:
        """Pause (``enabled: false``) or resume a source; the scheduler follows on its tick."""
        with self._locked():
            current = self.source(key)
            if current is None:
                return [Problem("sources", f"没有名为 {key!r} 的信息源（见 sources.yaml）")]
            edits = self._edits()
            record = edits.setdefault("sources", {}).setdefault(key, {})
            base = self._base_sources().get(key) or {}
            if base.get("enabled", True) == enabled and base:
                record.pop("enabled", None)
                if not record:
                    edits["sources"].pop(key)
            else:
                record["enabled"] = enabled
            problems = self._apply(edits)
            if not problems:
                self._audit(actor, key, "resume" if enabled else "pause", current,
                            self.source(key) or {})
            return problems

    def check(self, key: str, values: dict[str, Any]) -> list[Problem]:
        """The problems saving ``values`` would meet, without saving anything."""
        edits = self._edits()
        base = self._base_sources().get(key) or {}
        edits.setdefault("sources", {})[key] = {k: v for k, v in values.items()
                                                if k != "key" and base.get(k) != v}
        try:
            reload_settings(self.settings, console={"sources": _non_empty(edits)})
        except ConfigError as exc:
            return [Problem(p.path, p.reason, Path(p.file).name) for p in exc.problems]
        return []

    # ---- test a source: one page, nothing stored -------------------------------------------

    def test(self, key: str, values: dict[str, Any] | None = None,
             timeout: float = TEST_TIMEOUT) -> dict[str, Any]:
        """What a crawl of the first page would extract (``values``: an unsaved draft)."""
        if values is not None:
            problems = self.check(key, values)
            if problems:
                return {"ok": False, "problems": problems, "items": [], "total": 0,
                        "pages": 0, "errors": [], "error_count": 0}
            record = {**(self.source(key) or {}), **values, "key": key}
        else:
            record = self.source(key) or {}
            if not record:
                return {"ok": False, "problems": [Problem(
                    "sources", f"没有名为 {key!r} 的信息源（见 sources.yaml）")], "items": [],
                    "total": 0, "pages": 0, "errors": [], "error_count": 0}
        try:
            spec = source_spec(SourceConfig.model_validate(record))
        except (SourceError, ValueError) as exc:
            return {"ok": False, "problems": [Problem("sources", str(exc))], "items": [],
                    "total": 0, "pages": 0, "errors": [], "error_count": 0}
        if spec.kind == "import":
            return {"ok": False, "problems": [Problem(
                "kind", "导入类信息源没有网页可试抓：放入文件后用“立即抓取”导入")], "items": [],
                "total": 0, "pages": 0, "errors": [], "error_count": 0}
        return {"problems": [], **preview_in_child(spec, timeout=timeout)}

    # ---- crawl now -------------------------------------------------------------------------

    def crawl_now(self, key: str, actor: tuple[int | None, str]) -> dict[str, Any]:
        """Start a crawl of ``key`` (or return the one already running for it)."""
        if self.source(key) is None:
            raise LookupError(f"没有名为 {key!r} 的信息源（见 sources.yaml）")
        with self._jobs_lock:
            running = next((j for j in self._jobs.values()
                            if j["source"] == key and j["state"] == "running"), None)
            if running:
                return dict(running)
            job = {"id": uuid.uuid4().hex, "source": key, "state": "running",
                   "started_at": self.ctx.now(), "finished_at": None, "baseline":
                   self._stored(key), "report": None, "message": "", "by": actor[1]}
            self._jobs[job["id"]] = job
            self._forget_old()
        thread = threading.Thread(target=self._run, args=(job["id"], self.settings, key),
                                  name=f"crawl-now:{key}", daemon=True)
        thread.start()
        return dict(job)

    def job(self, job_id: str) -> dict[str, Any] | None:
        """The job's state, with the posts stored so far while it runs."""
        with self._jobs_lock:
            job = self._jobs.get(job_id)
            job = dict(job) if job else None
        if job is None:
            return None
        job["stored_so_far"] = max(0, self._stored(job["source"]) - job.pop("baseline"))
        return job

    def _run(self, job_id: str, settings: Settings, key: str) -> None:
        try:
            report = crawl_source(settings, key, now=self.ctx.now())
            update = {"state": "done" if report.ok else "failed", "report": report.to_dict(),
                      "message": report.summary()}
        except Exception as exc:  # a crawl that could not start: shown, never lost
            update = {"state": "failed", "message": f"抓取未能启动：{exc}"}
        with self._jobs_lock:
            self._jobs[job_id].update(update, finished_at=self.ctx.now())

    def _stored(self, key: str) -> int:
        with self.ctx.db.session() as s:
            return int(s.scalar(select(func.count(Post.id)).join(Source, Post.source_id == Source.id)
                                .where(Source.key == key)) or 0)

    def _forget_old(self) -> None:
        done = [j for j in self._jobs.values() if j["state"] != "running"]
        for job in done[:-FINISHED_JOBS_KEPT] if len(done) > FINISHED_JOBS_KEPT else []:
            self._jobs.pop(job["id"], None)

    # ---- the console file (the unit desk's plumbing, for sources.yaml) ---------------------

    def _path(self) -> Any:
        return console_path(self.settings.home, self.FILE)

    def _base_sources(self) -> dict[str, dict[str, Any]]:
        """Shipped + instance sources.yaml, without the console's edits."""
        base = reload_settings(self.settings, console={"sources": {}})
        return {s.key: s.model_dump(mode="json") for s in base.sources.sources}

    def _apply(self, edits: dict[str, Any]) -> list[Problem]:
        edits = _non_empty(edits)
        try:
            settings = reload_settings(self.settings, console={"sources": edits})
        except ConfigError as exc:
            return [Problem(p.path, p.reason, Path(p.file).name) for p in exc.problems]
        self._write(edits)
        from yuqing.bootstrap import sync_reference_data

        sync_reference_data(self.ctx.db, settings)
        self.ctx.use_settings(settings)
        return []

    def _write(self, edits: dict[str, Any]) -> None:
        write_console_file(self._path(), edits, HEADER)

    def _edits(self) -> dict[str, Any]:
        return read_console_file(self._path())

    def _locked(self) -> AbstractContextManager[None]:
        return self._units._locked()

    def _audit(self, actor: tuple[int | None, str], key: str, action: str,
               before: dict[str, Any], after: dict[str, Any]) -> None:
        with self.ctx.db.session() as s:
            s.add(ConfigChange(at=self.ctx.now(), user_id=actor[0], username=actor[1],
                               file=self.FILE, key=key, action=action, before=before,
                               after=after))


def _non_empty(edits: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in edits.items() if v}


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)

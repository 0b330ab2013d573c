"""Wiring for collection: crawl one source in a child process, ingest, record its health.

``crawlers`` knows nothing of the store; here its hooks are built from the store inside the
child process (which opens its own database and runs the full ingest flow), and the parent
records the run and the source's health.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from crawlers.dates import SHANGHAI
from crawlers.runner import crawl_in_child
from crawlers.runtime import CrawlHooks, CrawlResult
from crawlers.sources import SourceError, SourceSpec
from store import Database, Post, Source, SourceRun
from yuqing.crawl_schedule import add_source_jobs, parse_schedule, sync_source_jobs
from yuqing.values import BadValue, canonical_url

if TYPE_CHECKING:
    from yuqing.context import AppContext
    from yuqing.settings import Settings, SourceConfig

log = logging.getLogger(__name__)

FLAG_AFTER_FAILURES = 3  # consecutive failed runs before a source is flagged for attention
OPEN_MESSAGES_LIMIT = 500  # open board messages revisited per run, newest first
CRAWL_TIMEOUT = 3600.0  # seconds; a crawl still running then is killed and recorded


class UnknownSource(LookupError):
    def __init__(self, key: str):
        super().__init__(f"没有名为 {key!r} 的信息源（见 sources.yaml）")


@dataclass
class CrawlReport:
    source: str
    kind: str
    ok: bool
    started_at: datetime | None = None
    finished_at: datetime | None = None
    pages: int = 0
    items: int = 0
    new: int = 0
    updated: int = 0
    duplicate: int = 0
    rejected: int = 0
    error_count: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    stopped_early: bool = False
    consecutive_failures: int = 0
    flagged: bool = False
    queued: str = ""  # set when the crawl went to the shared queue: what happened there

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("started_at", "finished_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out

    def summary(self) -> str:
        if self.queued:
            return self.queued
        state = "成功" if self.ok else "失败"
        line = (f"信息源 {self.source}（{self.kind}）抓取{state}：页面 {self.pages}，新增 {self.new}，"
                f"更新 {self.updated}，重复 {self.duplicate}，拒收 {self.rejected}，"
                f"错误 {self.error_count}")
        if self.flagged:
            line += f"；已连续失败 {self.consecutive_failures} 次，已标记待检查"
        return line


def source_config(settings: Settings, key: str) -> SourceConfig:
    for src in settings.sources.sources:
        if src.key == key:
            return src
    raise UnknownSource(key)


def source_spec(src: SourceConfig) -> SourceSpec:
    return SourceSpec.from_config(src.model_dump())


def check_sources(settings: Settings) -> list[str]:
    """Problems in the sources' crawler options and schedules, to refuse at start."""
    problems = []
    for src in settings.sources.sources:
        try:
            source_spec(src)
            parse_schedule(src.schedule, settings.tz)
        except (SourceError, ValueError) as exc:
            problems.append(f"{src.key}: {exc}")
    return problems


# ---- store queries -----------------------------------------------------------------------

def _url_hash(url: str) -> str | None:
    # the same key ingest stores, so "known" agrees with what ingest calls a duplicate
    try:
        canon = canonical_url(url)
    except BadValue:
        return None
    return hashlib.sha1(canon.encode()).hexdigest() if canon else None


def known_posts(db: Database, key: str, ids: Sequence[str], urls: Sequence[str]) -> set[str]:
    """The ids and URLs among these that this source already holds."""
    with db.session() as s:
        source_id = s.scalar(select(Source.id).where(Source.key == key))
        if source_id is None:
            return set()
        held: set[str] = set()
        if ids:
            held |= set(s.scalars(select(Post.external_id).where(
                Post.source_id == source_id, Post.external_id.in_(list(ids)))))
        hashes = {h: u for u in urls if (h := _url_hash(u))}
        if hashes:
            found = s.scalars(select(Post.url_hash).where(Post.url_hash.in_(list(hashes))))
            held |= {hashes[h] for h in found if h}
    return held


def open_board_messages(db: Database, key: str, limit: int = OPEN_MESSAGES_LIMIT) -> list[str]:
    """URLs of this source's messages still without an official reply, newest first."""
    with db.session() as s:
        return list(s.scalars(
            select(Post.url).join(Source, Post.source_id == Source.id)
            .where(Source.key == key, Post.reply_text == "", Post.url != "")
            .order_by(Post.published_at.desc(), Post.id.desc()).limit(limit)))


def record_run(db: Database, key: str, result: CrawlResult,
               flag_after: int = FLAG_AFTER_FAILURES) -> tuple[int, bool]:
    """Append the run and update the source's health; returns (failures in a row, flagged)."""
    finished = result.finished_at or datetime.now(SHANGHAI)
    with db.session() as s:
        src = s.scalar(select(Source).where(Source.key == key))
        if src is None:
            raise UnknownSource(key)
        s.add(SourceRun(source_id=src.id, started_at=result.started_at or finished,
                        finished_at=finished, ok=result.ok, new=result.new,
                        updated=result.updated, duplicate=result.duplicate,
                        rejected=result.rejected, pages=result.pages, errors=result.errors))
        src.last_run_at = finished
        if result.ok:
            src.last_success_at = finished
            src.consecutive_failures = 0
            src.flagged = False
        else:
            src.consecutive_failures = (src.consecutive_failures or 0) + 1
            src.flagged = src.consecutive_failures >= flag_after
        return src.consecutive_failures, src.flagged


def source_health(settings: Settings, db: Database) -> list[dict[str, Any]]:
    """Every configured source with its health and last run (counts and error samples)."""
    rows = []
    with db.session() as s:
        stored = {src.key: src for src in s.scalars(select(Source))}
        for cfg in settings.sources.sources:
            src = stored.get(cfg.key)
            last = None if src is None else s.scalar(
                select(SourceRun).where(SourceRun.source_id == src.id)
                .order_by(SourceRun.id.desc()).limit(1))
            rows.append({
                "key": cfg.key, "name": cfg.name, "kind": cfg.kind, "enabled": cfg.enabled,
                "last_run_at": src.last_run_at if src else None,
                "last_success_at": src.last_success_at if src else None,
                "consecutive_failures": src.consecutive_failures if src else 0,
                "flagged": bool(src.flagged) if src else False,
                "last_run": None if last is None else {
                    "ok": last.ok, "pages": last.pages, "new": last.new, "updated": last.updated,
                    "duplicate": last.duplicate, "rejected": last.rejected,
                    "errors": list(last.errors or [])[:10]},
            })
    return rows


# ---- the child process -------------------------------------------------------------------

def _sink_for(ingestor: Any) -> Any:
    def sink(items: list[Any]) -> dict[str, Any]:
        report = ingestor.ingest(items)
        errors = []
        for rej in report.rejected:  # positions are 1-based within this batch
            item = items[rej.position - 1] if 0 < rej.position <= len(items) else None
            where = (getattr(item, "url", "") or getattr(item, "external_id", "")) if item else ""
            errors.append({"url": where, "reason": f"入库拒收：{rej.reason}"})
        return {"new": report.new, "updated": report.updated, "duplicate": report.duplicate,
                "rejected": len(report.rejected), "errors": errors}

    return sink


def child_hooks(settings: Settings, key: str, now_iso: str = "") -> CrawlHooks:
    """Built inside the crawl's child process: its own database, index and ingest flow."""
    from yuqing.context import AppContext
    from yuqing.pipeline import build_ingestor

    app = AppContext(settings=settings)
    ingestor = build_ingestor(app)
    return CrawlHooks(
        sink=_sink_for(ingestor),
        known=lambda source, ids, urls: known_posts(app.db, source, ids, urls),
        open_messages=lambda source: open_board_messages(app.db, source),
        now=datetime.fromisoformat(now_iso) if now_iso else None,
        batch_size=min(500, settings.app.ingest.batch_size), close=app.close)


# ---- the import kind: a watched folder ---------------------------------------------------

def import_folder(settings: Settings, spec: SourceSpec) -> CrawlResult:
    """Import new or changed CSV/XLSX/JSONL exports from the source's folder."""
    from crawlers.importers import ImportFileError, read_file
    from crawlers.watch import Ledger, pending_files
    from yuqing.context import AppContext
    from yuqing.pipeline import build_ingestor

    result = CrawlResult(source=spec.key, started_at=datetime.now(SHANGHAI))
    folder = Path(spec.path)
    folder = folder if folder.is_absolute() else settings.home / folder
    ledger = Ledger(settings.home / "imports" / f"{spec.key}.json")
    app = AppContext(settings=settings)
    try:
        pending = pending_files(folder, ledger, spec.option("pattern", default="*"))
        ingestor = build_ingestor(app)
        for path, digest in pending:
            try:
                report = ingestor.ingest(read_file(path, spec.option("mapping"),
                                                   spec.option("sheet")), source=spec.key)
            except ImportFileError as exc:  # recorded; retried only once the file changes
                result.record_error(str(path), str(exc))
            else:
                result.pages += 1
                result.items += report.new + report.updated + report.duplicate
                result.add_counts(report)
                for rej in report.rejected[:20]:
                    result.record_error(f"{path}#第{rej.position}行", rej.reason)
            ledger.mark(path, digest)
        result.idle = not pending
    except FileNotFoundError as exc:
        result.record_error(str(folder), str(exc))
    finally:
        app.close()
        result.finished_at = datetime.now(SHANGHAI)
    return result


# ---- the parent --------------------------------------------------------------------------

def crawl_source(settings: Settings, key: str, *, now: datetime | None = None,
                 timeout: float = CRAWL_TIMEOUT, where: str = "auto") -> CrawlReport:
    """Crawl (or import) one source now and record the run; a bad site never raises here.

    ``where``: ``auto`` follows ``crawl.queue`` (a web source then only has its start requests
    pushed to the shared queue, for the crawl workers), ``queue`` insists on the queue,
    ``local`` crawls here in a child process whatever the setting.
    """
    from yuqing.bootstrap import init_database
    from yuqing.context import AppContext

    spec = source_spec(source_config(settings, key))
    app = AppContext(settings=settings)
    try:
        with app.db.session() as s:
            present = s.scalar(select(Source.id).where(Source.key == key)) is not None
        if not present:  # first run after the source was configured: migrate and sync rows
            init_database(app.db, settings)
    finally:
        app.close()
    if spec.kind != "import" and (where == "queue" or (
            where == "auto" and settings.app.crawl.queue)):
        return _enqueue(settings, spec)
    app = AppContext(settings=settings)
    try:
        if spec.kind == "import":
            result = import_folder(settings, spec)
        else:
            args = (settings, key, now.isoformat() if now else "")
            result = crawl_in_child(spec, child_hooks, args, timeout=timeout)
        failures, flagged = record_run(app.db, key, result)
    finally:
        app.close()
    report = CrawlReport(
        source=key, kind=spec.kind, ok=result.ok, started_at=result.started_at,
        finished_at=result.finished_at, pages=result.pages, items=result.items, new=result.new,
        updated=result.updated, duplicate=result.duplicate, rejected=result.rejected,
        error_count=result.error_count, errors=result.errors,
        stopped_early=result.stopped_early, consecutive_failures=failures, flagged=flagged)
    (log.info if report.ok else log.warning)(report.summary())
    return report


def _enqueue(settings: Settings, spec: SourceSpec) -> CrawlReport:
    from yuqing.crawl_queue import QueueUnavailable, enqueue_source

    if not settings.app.crawl.queue:
        raise QueueUnavailable("未配置共享抓取队列（settings.yaml 的 crawl.queue）")
    queued = enqueue_source(settings, spec)
    report = CrawlReport(source=spec.key, kind=spec.kind, ok=True, queued=queued.summary())
    log.info(report.summary())
    return report


def crawl_job(settings: Settings, key: str) -> bool:
    """Scheduler job: one crawl; returns whether it found anything new or changed."""
    try:
        report = crawl_source(settings, key)
    except Exception:  # a job must never take the scheduler down with it
        log.exception("信息源 %s 抓取任务出错", key)
        return False
    return bool(report.new or report.updated)


def schedule_sources(scheduler: Any, settings: Settings, job: Any = None) -> list[str]:
    """Add one job per enabled source (max_instances=1, coalesce); returns the job ids."""
    return add_source_jobs(scheduler, list(settings.sources.sources), settings.tz,
                           job or crawl_job, lambda src: [settings, src.key])


# ---- following the console's edits without a restart -------------------------------------
# `yuqing run` re-reads the source list every SYNC_INTERVAL seconds (a stat of the console's
# files, a reload only when one changed) and reconciles the crawl jobs with it. Chosen over
# a version counter because the edit may come from another process (`yuqing serve`, a hand
# edit checked with `yuqing config check`): the files are the one thing every process shares.

SYNC_INTERVAL = 15  # seconds between two looks at the source list


def scheduled_crawl(ctx: AppContext, key: str) -> bool:
    """The scheduled job: crawls with the settings as they are now; a paused source is skipped
    even if its job fires before the next sync removes it."""
    settings = ctx.fresh_settings()
    cfg = next((s for s in settings.sources.sources if s.key == key), None)
    if cfg is None or not cfg.enabled:
        log.info("信息源 %s 已暂停或已删除，跳过本次抓取", key)
        return False
    return crawl_job(settings, key)


def sync_sources(scheduler: Any, ctx: AppContext, now: datetime | None = None,
                 job: Any = None) -> dict[str, list[str]]:
    """Reconcile the crawl jobs with the current source list (new, paused, resumed, changed)."""
    settings = ctx.fresh_settings()
    changes = sync_source_jobs(scheduler, list(settings.sources.sources), settings.tz,
                               job or scheduled_crawl, lambda src: [ctx, src.key],
                               now or ctx.now())
    for kind, label in (("added", "新增"), ("removed", "停止"), ("rescheduled", "改期")):
        for job_id in changes[kind]:
            log.info("抓取任务%s：%s", label, job_id)
    for job_id in changes["bad"]:
        log.error("抓取任务 %s 的抓取计划有误，未调度", job_id)
    return changes

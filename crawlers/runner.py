"""Run one source's crawl: in this process (fresh reactor) or in a spawned child process.

Twisted's reactor cannot be restarted, so every crawl after the first in a process must run
in a child. ``crawl_in_child`` spawns one, lets it build its own hooks (it opens its own
database there) and returns the child's CrawlResult as plain data.
"""

from __future__ import annotations

import logging
import multiprocessing
import traceback
from collections.abc import Callable
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from crawlers.dates import SHANGHAI
from crawlers.runtime import CrawlHooks, CrawlResult
from crawlers.settings import scrapy_settings
from crawlers.sources import SourceSpec
from crawlers.spiders import spider_for

log = logging.getLogger(__name__)

HooksFactory = Callable[..., CrawlHooks]


def run_crawl(spec: SourceSpec, hooks: CrawlHooks,
              overrides: dict[str, Any] | None = None) -> CrawlResult:
    """Crawl one source in this process; starts (and stops) the Twisted reactor."""
    from scrapy.crawler import CrawlerProcess

    if spec.kind not in ("feed", "html", "json_api", "board"):
        raise ValueError(f"信息源 {spec.key} 的类型 {spec.kind} 不是网页抓取类")
    result = CrawlResult(source=spec.key, started_at=datetime.now(SHANGHAI))
    settings = scrapy_settings(spec, overrides)
    settings.setdefault("LOG_INSTALL_ROOT_HANDLER", False)
    process = CrawlerProcess(settings=settings)
    process.crawl(spider_for(spec.kind), spec=spec, hooks=hooks, result=result)
    try:
        process.start()
    finally:
        result.finished_at = datetime.now(SHANGHAI)
        if hooks.close:
            hooks.close()
    return result


def _child(conn: Connection, spec_data: dict[str, Any], factory: HooksFactory,
           factory_args: tuple[Any, ...], overrides: dict[str, Any] | None) -> None:
    try:
        spec = SourceSpec.from_config(spec_data)
        hooks = factory(*factory_args)
        result = run_crawl(spec, hooks, overrides)
        conn.send(("ok", result.to_dict()))
    except BaseException as exc:  # report anything to the parent instead of dying silently
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-2000:]}"))
    finally:
        conn.close()


def crawl_in_child(spec: SourceSpec, factory: HooksFactory, factory_args: tuple[Any, ...] = (),
                   overrides: dict[str, Any] | None = None,
                   timeout: float | None = 3600.0) -> CrawlResult:
    """Crawl in a spawned process; ``factory(*factory_args)`` builds the hooks in the child.

    ``factory`` must be importable by name (a module-level function or class) so the child
    can find it. A child that crashes or overruns ``timeout`` gives a failed result with the
    reason recorded, never an exception.
    """
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    started = datetime.now(SHANGHAI)
    proc = ctx.Process(target=_child, args=(child, spec.to_dict(), factory, factory_args,
                                            overrides), name=f"crawl:{spec.key}", daemon=False)
    proc.start()
    child.close()
    message: tuple[str, Any] | None = None
    timed_out = False
    try:
        if parent.poll(timeout):
            message = parent.recv()
        else:
            timed_out = True
    except EOFError:
        message = None
    finally:
        parent.close()
    proc.join(10 if message else 0.1)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if message and message[0] == "ok":
        data = message[1]
        return CrawlResult(**data)
    result = CrawlResult(source=spec.key, started_at=started, finished_at=datetime.now(SHANGHAI))
    if message:
        result.record_error("", f"抓取进程出错：{message[1]}"[:1000])
    elif timed_out:
        result.record_error("", f"抓取超时（超过 {timeout} 秒），已终止")
    else:
        result.record_error("", f"抓取进程异常退出（退出码 {proc.exitcode}）")
    return result

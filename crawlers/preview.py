"""Test a source: crawl its first page in a child process and return what would be extracted.

The same spider, selectors and item cleaning as a real crawl, but the sink only collects the
items (nothing is stored, nothing counts as known) and ``max_pages`` is 1. The child is
killed after ``timeout`` seconds; every failure comes back as data, never an exception.
"""

from __future__ import annotations

import multiprocessing
import traceback
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

from crawlers.runtime import CrawlHooks
from crawlers.sources import SourceSpec

PREVIEW_ITEMS = 20  # items sent back to the page; the count covers all of them


def _jsonable(item: Any) -> dict[str, Any]:
    data = item.to_dict() if hasattr(item, "to_dict") else dict(item)
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def _child(conn: Connection, spec_data: dict[str, Any], limit: int) -> None:
    from crawlers.runner import run_crawl

    try:
        spec = SourceSpec.from_config(spec_data)
        spec = replace(spec, max_pages=1, incremental=False)
        collected: list[dict[str, Any]] = []

        def sink(items: list[Any]) -> dict[str, Any]:
            collected.extend(_jsonable(i) for i in items)
            return {"new": 0, "updated": 0, "duplicate": 0, "rejected": 0, "errors": []}

        result = run_crawl(spec, CrawlHooks(sink=sink, batch_size=50))
        conn.send(("ok", {"items": collected[:limit], "total": len(collected),
                          "pages": result.pages, "errors": result.errors[:10],
                          "error_count": result.error_count}))
    except BaseException as exc:  # reported to the parent instead of dying silently
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-1500:]}"))
    finally:
        conn.close()


def preview_in_child(spec: SourceSpec, timeout: float = 60.0,
                     limit: int = PREVIEW_ITEMS) -> dict[str, Any]:
    """``{ok, items, total, pages, errors, error_count}``; ``ok`` is False with ``errors``
    naming the failure when the child crashed, overran ``timeout`` or the spider failed."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, spec.to_dict(), limit),
                       name=f"preview:{spec.key}", daemon=True)
    proc.start()
    child.close()
    message: tuple[str, Any] | None = None
    try:
        if parent.poll(timeout):
            message = parent.recv()
    except EOFError:
        message = None
    finally:
        parent.close()
    proc.join(5 if message else 0.1)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if message and message[0] == "ok":
        out = dict(message[1])
        out["ok"] = out["total"] > 0 or not out["errors"]
        return out
    if message:
        reason = f"试抓进程出错：{message[1]}"[:1000]
    elif proc.exitcode is None or proc.exitcode < 0:
        reason = f"试抓超时（超过 {timeout:g} 秒），已终止"
    else:
        reason = f"试抓进程异常退出（退出码 {proc.exitcode}）"
    return {"ok": False, "items": [], "total": 0, "pages": 0, "error_count": 1,
            "errors": [{"url": "", "reason": reason}]}

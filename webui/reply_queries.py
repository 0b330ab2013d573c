"""Reading the reply report for the console: input, who sees which rows, and export rows.

Access (the same rule for the page, the API, the CLI and the exports, and the same unit scope
as every report: ``routing.reports.access.report_scope``): admins and monitors see every
message, and so do leaders not bound to a unit; a leader bound to a unit sees the units of its
jurisdiction; a unit user sees only messages whose replying (or handling) unit is its own —
matched on the unit's full or short name as stored in ``reply_unit``. A message nobody has
answered names no unit, so it appears only in the unrestricted view.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.reports import PRESETS
from routing.reports.replies import (
    ReplyOptions,
    ReplyReport,
    load_reply_records,
    reply_report,
    reply_unit_names,
)
from store import Unit
from webui.accounts import Viewer
from webui.clock import now, period_from, zone
from webui.report_queries import scope_for, sla


class ReplyQuery(BaseModel):
    """The page's and ``GET /api/v1/reports/replies``' parameters."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    start: str = Field("", alias="from", max_length=10, description="开始日期 YYYY-MM-DD（含）")
    end: str = Field("", alias="to", max_length=10, description="结束日期 YYYY-MM-DD（含）")
    preset: str = Field("", max_length=20, description="时间段预设：" + "、".join(PRESETS))
    source: str = Field("", max_length=100, description="只统计这个信息源（代码）")
    days: list[int] = Field(default_factory=list,
                            description="N 天内答复率的天数，逗号分隔，如 1,3,5,10")

    @field_validator("days", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]
        return value

    @field_validator("days")
    @classmethod
    def _range(cls, value: list[int]) -> list[int]:
        if len(value) > 10 or any(not 1 <= d <= 366 for d in value):
            raise ValueError("答复天数应为 1–366 之间的整数，最多 10 个")
        return value

    @classmethod
    def from_args(cls, args: Any) -> ReplyQuery:
        return cls.model_validate({k: v for k, v in args.items() if v != ""})


def report_for(session: Session, viewer: Viewer, q: ReplyQuery
               ) -> tuple[ReplyReport, list[str] | None]:
    """The report and the names of the units the viewer is limited to (None: all)."""
    cfg = current_app.config
    moment = now()
    options = ReplyOptions.of(q.days or cfg.get("YUQING_REPLY_DAYS"), sla().working_hours,
                              cfg.get("YUQING_TIMEZONE", "Asia/Shanghai"))
    period = period_from({"from": q.start, "to": q.end, "preset": q.preset})
    scope = scope_for(session, viewer, report="replies")  # the rule every report shares
    shown = None if scope is None else sorted(
        u.short_name or u.name for u in session.scalars(select(Unit).where(Unit.code.in_(scope))))
    records = load_reply_records(session, period, options.tz, q.source or None,
                                 reply_unit_names(session, scope))
    return reply_report(records, period, moment, options, cfg.get("YUQING_TOPICS", {})), shown


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _share(row: dict[str, Any], calendar: str) -> list[float | None]:
    return [_pct(w[calendar]["share"]) for w in row["within"]]


def export_headers(days: list[int]) -> list[str]:
    return (["分组", "名称", "留言数", "已答复", "答复率（%）", "用时中位数（小时）",
             "用时90%分位（小时）", "工作时间中位数（小时）", "工作时间90%分位（小时）",
             "已答复无答复时间"]
            + [f"{d}天内答复率（%）" for d in days] + [f"{d}个工作日内答复率（%）" for d in days])


def export_rows(data: dict[str, Any]) -> Iterator[list[Any]]:
    """The report as spreadsheet rows: total, units, topics, months, then the slowest list."""
    for group, key in (("合计", None), ("按答复单位", "by_unit"), ("按领域", "by_topic"),
                       ("按月份", "by_month")):
        for row in [data["total"]] if key is None else data[key]:
            yield [group, row["label"], row["messages"], row["replied"], _pct(row["reply_rate"]),
                   row["median_hours"], row["p90_hours"], row["median_working_hours"],
                   row["p90_working_hours"], row["replied_without_time"],
                   *_share(row, "natural"), *_share(row, "working")]
    total = data["total"]
    yield []
    yield ["未计入", "答复时间早于留言时间（数据错误）", total["invalid"]]
    yield ["未计入", "无留言时间", total["undated"]]
    yield []
    yield ["答复最慢的留言", "标题", "答复单位", "信息源", "留言时间", "答复时间", "用时（小时）",
           "工作时间（小时）", "原文链接", "工单"]
    for r in data["slowest"]:
        yield ["答复最慢的留言", r["title"], r["unit"], r["source"], _local(r["published_at"]),
               _local(r["reply_at"]), r["hours"], r["working_hours"], r["url"],
               r["case_id"] or ""]


def _local(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(zone())

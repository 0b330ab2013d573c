"""`yuqing report …`: report figures on the command line (the same functions as the console)."""

from __future__ import annotations

import json
from typing import Any

import click

from routing.reports import PRESETS, PeriodError, parse_period
from routing.reports.replies import (
    ReplyOptions,
    ReplyReport,
    load_reply_records,
    names_of_unit,
    reply_report,
)
from yuqing.context import AppContext


@click.group("report")
def report_group() -> None:
    """统计报告（答复时效等）。"""


def _preset(value: str | None) -> str | None:
    if not value:
        return None
    by_label = {label: key for key, label in PRESETS.items()}
    return by_label.get(value, value)  # 上周 or last_week


def _days(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(part) for part in value.replace("，", ",").split(",") if part.strip()]
    except ValueError as exc:
        raise click.BadParameter("应为逗号分隔的天数，如 1,3,5,10", param_hint="--days") from exc


def build_reply_report(app: AppContext, start: str | None = None, end: str | None = None,
                       preset: str | None = None, source: str | None = None,
                       unit: str | None = None, days: list[int] | None = None) -> ReplyReport:
    """The reply report as the console computes it, "today" from the context's clock."""
    s = app.settings
    now = app.now()
    period = parse_period(start, end, _preset(preset), now.astimezone(s.tz).date())
    options = ReplyOptions.of(days or s.app.reports.reply_days, s.sla.working_hours,
                              s.app.timezone)
    with app.db.session() as session:
        only = None
        if unit:
            only = names_of_unit(session, code=unit)
            if not only:
                raise click.BadParameter(f"未知的单位代码 {unit!r}", param_hint="--unit")
        records = load_reply_records(session, period, s.app.timezone, source, only)
    topics = {t.key: t.name for t in s.taxonomy.topics}
    return reply_report(records, period, now, options, topics)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _h(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _row(f: dict[str, Any]) -> str:
    return (f"  {f['label']}：留言 {f['messages']}，已答复 {f['replied']}，"
            f"答复率 {_pct(f['reply_rate'])}，用时中位数 {_h(f['median_hours'])} 小时，"
            f"90% 分位 {_h(f['p90_hours'])} 小时")


def print_reply_report(data: dict[str, Any]) -> None:
    t = data["total"]
    click.echo(f"答复时效报告：{data['period']['label']}")
    click.echo(f"留言 {t['messages']} 条，已答复 {t['replied']} 条，答复率 {_pct(t['reply_rate'])}；"
               f"留言至答复用时中位数 {_h(t['median_hours'])} 小时，"
               f"90% 分位 {_h(t['p90_hours'])} 小时（工作时间 {_h(t['median_working_hours'])} / "
               f"{_h(t['p90_working_hours'])} 小时）")
    shares = "；".join(f"{w['days']} 天内 {_pct(w['natural']['share'])}"
                       f"（{w['days']} 个工作日内 {_pct(w['working']['share'])}）"
                       for w in t["within"])
    click.echo(f"按期答复率：{shares}")
    if t["replied_without_time"]:
        click.echo(f"另有 {t['replied_without_time']} 条已答复但无答复时间，不计用时。")
    if t["invalid"] or t["undated"]:
        click.echo(f"未计入：答复时间早于留言时间 {t['invalid']} 条（数据错误），"
                   f"无留言时间 {t['undated']} 条。")
    for title, key in (("按答复单位", "by_unit"), ("按领域", "by_topic"), ("按月份", "by_month")):
        if data[key]:
            click.echo(f"{title}：")
            for f in data[key]:
                click.echo(_row(f))
    if data["slowest"]:
        click.echo("答复最慢的留言：")
        for r in data["slowest"]:
            click.echo(f"  {_h(r['hours'])} 小时  {r['unit']}  {r['title'][:40]}  "
                       f"{r['url'] or ''}")


@report_group.command("replies")
@click.option("--from", "start", default=None, metavar="YYYY-MM-DD", help="开始日期（含）")
@click.option("--to", "end", default=None, metavar="YYYY-MM-DD", help="结束日期（含）")
@click.option("--preset", default=None,
              help="时间段：" + "、".join(f"{k}（{v}）" for k, v in PRESETS.items())
              + "；默认上周")
@click.option("--source", default=None, help="只统计这个信息源（代码）")
@click.option("--unit", default=None, help="只统计这个单位答复的留言（单位代码）")
@click.option("--days", default=None, help="N 天内答复率的天数，如 1,3,5,10（默认见 settings.yaml）")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON")
@click.pass_obj
def replies(app: AppContext, start: str | None, end: str | None, preset: str | None,
            source: str | None, unit: str | None, days: str | None, as_json: bool) -> None:
    """留言板、12345 记录的答复时效：答复率、用时中位数和 90% 分位、N 天内答复率。"""
    from yuqing.cli import ensure_ready

    ensure_ready(app)
    try:
        report = build_reply_report(app, start, end, preset, source, unit, _days(days))
    except (PeriodError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    data = report.as_dict()
    print_reply_report(data)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))

"""`yuqing report ...`: the leaders' reports on the command line (same figures as the console).

This module holds the ``report`` group; each report adds its subcommand here
(``response`` below, ``replies`` from the reply-timeliness desk).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select

from routing.policy import Policy
from routing.reports import PRESETS, PeriodError, parse_period
from routing.reports.access import narrow, refusal, report_scope
from routing.reports.history import UnitInfo, load_histories
from routing.reports.replies import (
    ReplyOptions,
    ReplyReport,
    load_reply_records,
    reply_report,
    reply_unit_names,
)
from routing.reports.response import DEFAULT_THRESHOLD, compute_report
from store import Unit, User
from yuqing.cli import emit_json, ensure_ready


@click.group("report")
def report_group() -> None:
    """报表：响应考核、留言答复及时性。"""


def _period(app: Any, start: str | None, end: str | None, preset: str | None) -> Any:
    today = app.now().astimezone(ZoneInfo(app.settings.app.timezone)).date()
    try:
        return parse_period(start, end, preset, today)
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from exc


def _scope(session: Any, units: dict[str, UnitInfo], unit: str | None,
           username: str | None, report: str) -> list[str] | None:
    """The same rule as the console: a user's scope (``--user``), narrowed by ``--unit``."""
    if unit and unit not in units:
        raise click.BadParameter(f"未知的单位「{unit}」", param_hint="--unit")
    scope: list[str] | None = None
    if username:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.BadParameter(f"用户 {username} 不存在", param_hint="--user")
        code = session.scalar(select(Unit.code).where(Unit.id == user.unit_id)) \
            if user.unit_id else None
        scope = report_scope(user.role, code, units)
    narrowed = narrow(scope, unit)
    if unit and narrowed == []:
        raise click.ClickException(refusal(report, unit, username))
    return narrowed


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _line(name: str, r: dict[str, Any]) -> str:
    return (f"{name}：派发 {r['assigned']}，按时签收率 {_pct(r['sign_on_time_rate'])}，"
            f"按时回应率 {_pct(r['answer_on_time_rate'])}，按时办结率 {_pct(r['close_on_time_rate'])}，"
            f"回应用时中位数 {_hours(r['response_hours_median'])} 小时"
            f"（P90 {_hours(r['response_hours_p90'])}），当前超时 {r['overdue_now']}，"
            f"退回 {r['returned']}，重办 {r['reopened']}")


@report_group.command("response")
@click.option("--from", "start", default=None, metavar="YYYY-MM-DD", help="开始日期（含）")
@click.option("--to", "end", default=None, metavar="YYYY-MM-DD", help="结束日期（含）")
@click.option("--preset", type=click.Choice(list(PRESETS)), default=None,
              help="预设时间段（未给日期时使用；默认上周）")
@click.option("--unit", default=None, metavar="KEY", help="只统计一个单位（单位代码）")
@click.option("--user", "username", default=None,
              help="按该用户的权限统计（承办单位用户只能看本单位）")
@click.option("--threshold", type=click.FloatRange(0, 1), default=DEFAULT_THRESHOLD,
              show_default=True, help="按时率考核线，低于者标红")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 报表")
@click.pass_obj
def response_command(app: Any, start: str | None, end: str | None, preset: str | None,
                     unit: str | None, username: str | None, threshold: float,
                     as_json: bool) -> None:
    """响应考核报表：各单位（主办、协办分列）签收、回应、办结的及时率与用时。"""
    ensure_ready(app)
    period = _period(app, start, end, preset)
    sla = Policy.from_settings(app.settings).sla
    topics = {t.key: t.name for t in app.settings.taxonomy.topics}
    with app.db.session() as s:
        units = {u.code: UnitInfo(u.code, u.short_name or u.name, u.jurisdiction_code)
                 for u in s.scalars(select(Unit))}
        scope = _scope(s, units, unit, username, "response")
        histories = load_histories(s, period, ZoneInfo(sla.tz))
    rep = compute_report(histories, period, sla=sla, now=app.now(), threshold=threshold,
                         unit_codes=scope, topic_names=topics)
    click.echo(f"响应考核报表 {period.label}")
    click.echo(_line("合计（主办）", rep["total"]))
    for r in rep["units"]:
        mark = "⚑ " if r["flagged"] else ""
        click.echo(_line(f"{mark}{r['name']}（{'主办' if r['role'] == 'lead' else '协办'}）", r))
    if rep["flagged"]:
        click.echo(f"低于 {threshold:.0%} 的单位：{'、'.join(rep['flagged'])}")
    if as_json:
        emit_json(rep)


# -- replies: reply timeliness of 留言板 / 12345 records ------------------------------------

def _days(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(part) for part in value.replace("，", ",").split(",") if part.strip()]
    except ValueError as exc:
        raise click.BadParameter("应为逗号分隔的天数，如 1,3,5,10", param_hint="--days") from exc


def build_reply_report(app: Any, start: str | None = None, end: str | None = None,
                       preset: str | None = None, source: str | None = None,
                       unit: str | None = None, username: str | None = None,
                       days: list[int] | None = None) -> ReplyReport:
    """The reply report as the console computes it, "today" from the context's clock."""
    s = app.settings
    by_label = {label: key for key, label in PRESETS.items()}  # 上周 as well as last_week
    period = _period(app, start, end, by_label.get(preset or "", preset))
    try:
        options = ReplyOptions.of(days or s.app.reports.reply_days, s.sla.working_hours,
                                  s.app.timezone)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--days") from exc
    with app.db.session() as session:
        units = {u.code: UnitInfo(u.code, u.short_name or u.name, u.jurisdiction_code)
                 for u in session.scalars(select(Unit))}
        names = reply_unit_names(session, _scope(session, units, unit, username, "replies"))
        records = load_reply_records(session, period, s.app.timezone, source, names)
    topics = {t.key: t.name for t in s.taxonomy.topics}
    return reply_report(records, period, app.now(), options, topics)


def _row(f: dict[str, Any]) -> str:
    return (f"  {f['label']}：留言 {f['messages']}，已答复 {f['replied']}，"
            f"答复率 {_pct(f['reply_rate'])}，用时中位数 {_hours(f['median_hours'])} 小时，"
            f"90% 分位 {_hours(f['p90_hours'])} 小时")


def print_reply_report(data: dict[str, Any]) -> None:
    t = data["total"]
    click.echo(f"答复时效报告：{data['period']['label']}")
    click.echo(f"留言 {t['messages']} 条，已答复 {t['replied']} 条，答复率 {_pct(t['reply_rate'])}；"
               f"留言至答复用时中位数 {_hours(t['median_hours'])} 小时，"
               f"90% 分位 {_hours(t['p90_hours'])} 小时（工作时间 "
               f"{_hours(t['median_working_hours'])} / {_hours(t['p90_working_hours'])} 小时）")
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
            click.echo(f"  {_hours(r['hours'])} 小时  {r['unit']}  {r['title'][:40]}  "
                       f"{r['url'] or ''}")


@report_group.command("replies")
@click.option("--from", "start", default=None, metavar="YYYY-MM-DD", help="开始日期（含）")
@click.option("--to", "end", default=None, metavar="YYYY-MM-DD", help="结束日期（含）")
@click.option("--preset", default=None, metavar="NAME",
              help="预设时间段（未给日期时使用；默认上周）："
              + "、".join(f"{k}（{v}）" for k, v in PRESETS.items()))
@click.option("--source", default=None, help="只统计这个信息源（代码）")
@click.option("--unit", default=None, metavar="KEY", help="只统计这个单位答复的留言（单位代码）")
@click.option("--user", "username", default=None,
              help="按该用户的权限统计（承办单位用户只看本单位答复的留言）")
@click.option("--days", default=None, help="N 天内答复率的天数，如 1,3,5,10（默认见 settings.yaml）")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 报表")
@click.pass_obj
def replies_command(app: Any, start: str | None, end: str | None, preset: str | None,
                    source: str | None, unit: str | None, username: str | None,
                    days: str | None, as_json: bool) -> None:
    """留言板、12345 记录的答复时效：答复率、用时中位数和 90% 分位、N 天内答复率。"""
    ensure_ready(app)
    data = build_reply_report(app, start, end, preset, source, unit, username,
                              _days(days)).as_dict()
    print_reply_report(data)
    if as_json:
        emit_json(data)

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
from routing.reports.access import narrow, report_scope
from routing.reports.history import UnitInfo, load_histories
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
           username: str | None) -> list[str] | None:
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
        raise click.ClickException(f"用户 {username} 无权查看单位「{unit}」的考核数据")
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
        scope = _scope(s, units, unit, username)
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

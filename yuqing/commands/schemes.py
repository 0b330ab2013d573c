"""`yuqing schemes list|check|run` and `yuqing spikes`: the scheme and spike jobs, run once."""

from __future__ import annotations

import json
from typing import Any

import click

from yuqing.schemes import all_schemes, handle_spikes, load_yaml_schemes, match_batch
from yuqing.settings import ConfigError
from yuqing.values import parse_time

EXIT_CONFIG = 2


@click.group("schemes")
def schemes_group() -> None:
    """监测方案：列出、校验 schemes.yaml、执行一次匹配。"""


@schemes_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON")
@click.pass_obj
def list_cmd(app: Any, as_json: bool) -> None:
    """列出全部监测方案（schemes.yaml 与控制台）。"""
    try:
        rows = all_schemes(app, enabled_only=False)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(EXIT_CONFIG) from exc
    for key, spec, origin in rows:
        state = "启用" if spec.enabled else "停用"
        where = "控制台" if origin == "console" else "schemes.yaml"
        click.echo(f"{key}\t{spec.name}\t{state}\t{where}\t{spec.query}")
    if as_json:
        click.echo(json.dumps([{"key": k, "origin": o, **s.model_dump(mode="json")}
                               for k, s, o in rows], ensure_ascii=False))


@schemes_group.command("check")
@click.pass_obj
def check_cmd(app: Any) -> None:
    """校验 schemes.yaml：逐条列出文件、位置和原因。"""
    try:
        found = load_yaml_schemes(app.settings)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(EXIT_CONFIG) from exc
    click.echo(f"schemes.yaml 校验通过：{len(found)} 个方案")


@schemes_group.command("run")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON")
@click.pass_obj
def run_cmd(app: Any, as_json: bool) -> None:
    """对上次之后分析完成的信息执行一次方案匹配（打标签、推送、立案）。"""
    totals = {"posts": 0, "tagged": 0, "queued": 0, "cases": 0}
    try:
        while (r := match_batch(app)).posts:
            for key in totals:
                totals[key] += getattr(r, key)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(EXIT_CONFIG) from exc
    click.echo(f"方案匹配完成：检查 {totals['posts']} 条信息，新标签 {totals['tagged']} 个，"
               f"新推送 {totals['queued']} 条，新立案 {totals['cases']} 件")
    if as_json:
        click.echo(json.dumps(totals, ensure_ascii=False))


@click.command("spikes")
@click.option("--at", "at", default=None, help="检测时刻（默认现在），如 2026-11-23T10:00")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON")
@click.pass_obj
def spikes_command(app: Any, at: str | None, as_json: bool) -> None:
    """异动检测：近 1 小时信息量与前 14 天同一时段的基线（中位数、MAD）比较，发现即告警。"""
    try:
        moment = parse_time(at, app.settings.app.timezone) if at else app.now()
    except ValueError as exc:
        raise click.BadParameter(f"无法识别的时间 {at!r}", param_hint="--at") from exc
    if moment is None:
        raise click.BadParameter(f"无法识别的时间 {at!r}", param_hint="--at")
    found = handle_spikes(app, moment)
    for spike in found:
        click.echo(f"异动：{spike.why}")
    if not found:
        click.echo("未发现异动")
    if as_json:
        click.echo(json.dumps({"spikes": [{"key": s.key, "label": s.label, "current": s.current,
                                           "baseline": s.baseline, "hour": s.hour.isoformat(),
                                           "why": s.why} for s in found]}, ensure_ascii=False))

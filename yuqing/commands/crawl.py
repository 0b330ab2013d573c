"""`yuqing crawl SOURCE` runs one source now; `yuqing crawl-status` shows source health."""

from __future__ import annotations

import json
from typing import Any

import click

from yuqing.crawling import CrawlReport, UnknownSource, crawl_source, source_health


def run_crawl(settings: Any, key: str) -> CrawlReport:
    return crawl_source(settings, key)


@click.command("crawl")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 结果")
@click.pass_context
def crawl_command(ctx: click.Context, source: str, as_json: bool) -> None:
    """立即抓取（或导入）一个信息源，输出新增、更新、重复、拒收和错误数。"""
    app = ctx.obj
    try:
        report = run_crawl(app.settings, source)
    except UnknownSource as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary())
    for err in report.errors[:10]:
        click.echo(f"  错误 {err['url'] or '-'}：{err['reason']}")
    if report.error_count > 10:
        click.echo(f"  ……另有 {report.error_count - 10} 个错误")
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    if not report.ok:
        ctx.exit(1)


@click.command("crawl-status")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 结果")
@click.pass_obj
def crawl_status_command(app: Any, as_json: bool) -> None:
    """各信息源的健康状况：最近运行、最近成功、新增/重复/拒收、错误样例。"""
    from store.migrate import is_current
    from yuqing.bootstrap import init_database

    if not is_current(app.db):
        init_database(app.db, app.settings)
    rows = source_health(app.settings, app.db)
    for row in rows:
        flag = " [已标记：连续失败]" if row["flagged"] else ""
        last = row["last_run"]
        counts = (f"，上次 新增 {last['new']} 重复 {last['duplicate']} 拒收 {last['rejected']}"
                  if last else "")
        click.echo(f"{row['key']}{flag}：最近运行 {row['last_run_at'] or '从未'}，"
                   f"最近成功 {row['last_success_at'] or '从未'}，"
                   f"连续失败 {row['consecutive_failures']}{counts}")
    if as_json:
        click.echo(json.dumps({"sources": rows}, ensure_ascii=False, default=str))


COMMANDS: list[click.Command] = [crawl_command, crawl_status_command]

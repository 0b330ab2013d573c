"""`yuqing crawl SOURCE` runs one source now; `yuqing crawl-status` shows source health;
`yuqing crawl-worker` serves the shared crawl queue (``crawl.queue``)."""

from __future__ import annotations

import json
from typing import Any

import click

from yuqing.crawl_queue import crawl_queue_status
from yuqing.crawling import CrawlReport, UnknownSource, crawl_source, source_health


def run_crawl(settings: Any, key: str, where: str = "auto") -> CrawlReport:
    return crawl_source(settings, key, where=where)


@click.command("crawl")
@click.argument("source")
@click.option("--queue", "where", flag_value="queue",
              help="推送到共享抓取队列（crawl.queue），由 crawl-worker 抓取")
@click.option("--local", "where", flag_value="local", help="在本机立即抓取，不经共享队列")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 结果")
@click.pass_context
def crawl_command(ctx: click.Context, source: str, where: str | None, as_json: bool) -> None:
    """立即抓取（或导入）一个信息源，输出新增、更新、重复、拒收和错误数。

    配置了 crawl.queue 时，网页类信息源只推送起始请求到共享队列（同 --queue）。"""
    from yuqing.crawl_queue import QueueUnavailable

    app = ctx.obj
    try:
        report = run_crawl(app.settings, source, where or "auto")
    except (UnknownSource, QueueUnavailable) as exc:
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
    queue = crawl_queue_status(app.settings)
    if queue["configured"]:
        if not queue["ok"]:
            click.echo(queue["error"])
        else:
            click.echo(f"共享抓取队列：等待 {queue['pending']}，抓取中 {queue['in_flight']}")
            for key, n in queue["sources"].items():
                if n["pending"] or n["in_flight"]:
                    click.echo(f"  {key}：等待 {n['pending']}，抓取中 {n['in_flight']}")
    if as_json:
        click.echo(json.dumps({"sources": rows, "queue": queue}, ensure_ascii=False,
                              default=str))


@click.command("crawl-worker")
@click.option("--source", "sources", multiple=True, metavar="KEY",
              help="只抓取这些信息源（可重复）；默认全部启用的网页类信息源")
@click.option("--poll", type=click.FloatRange(0.1, 60), default=1.0, show_default=True,
              help="查看队列的间隔（秒）")
@click.option("--id", "worker_id", default="", help="工作进程标识；默认 主机名-进程号-随机串")
@click.pass_obj
def crawl_worker_command(app: Any, sources: tuple[str, ...], poll: float, worker_id: str) -> None:
    """从共享抓取队列（crawl.queue）取请求抓取并入库，直到收到 SIGTERM/SIGINT。

    可在多台机器上各启动若干个。

    被强行终止的进程正在抓取的请求，会在 crawl.worker_ttl 秒后放回队列，由其他进程重新抓取。"""
    from yuqing.crawl_queue import QueueUnavailable, run_crawl_worker

    known = {s.key for s in app.settings.sources.sources}
    unknown = [k for k in sources if k not in known]
    if unknown:
        raise click.ClickException(f"没有名为 {', '.join(unknown)} 的信息源（见 sources.yaml）")
    try:
        run_crawl_worker(app, sources, poll=poll, worker_id=worker_id)
    except QueueUnavailable as exc:
        raise click.ClickException(str(exc)) from exc


COMMANDS: list[click.Command] = [crawl_command, crawl_status_command, crawl_worker_command]

"""`yuqing briefing daily|weekly|event ID`: make one briefing now (what the scheduler does)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import click

from webui.briefing import KINDS, BriefingError, period_for


@click.command("briefing")
@click.argument("kind", type=click.Choice(["daily", "weekly", "event"]))
@click.argument("event_id", required=False, type=int)
@click.option("--date", "day", default=None, metavar="YYYY-MM-DD",
              help="日报：统计日（默认昨日）；周报：该周任一天（默认上周）")
@click.option("--format", "fmt", type=click.Choice(["docx", "pdf", "html"]), default=None,
              help="只生成一种格式（默认 settings.yaml 中 briefing.formats 的各格式）")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="另存到此文件（需同时给出 --format）")
@click.option("--send/--no-send", default=False,
              help="同时通过通知渠道发送（默认只生成，不发送）")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON")
@click.pass_obj
def briefing_command(app: Any, kind: str, event_id: int | None, day: str | None,
                     fmt: str | None, output: str | None, send: bool, as_json: bool) -> None:
    """生成舆情日报、周报或某事件的专报（DOCX/PDF/HTML），保存在实例目录 briefings/ 下。"""
    from yuqing.briefings import handle_one
    from yuqing.cli import ensure_ready

    if kind == "event" and event_id is None:
        raise click.UsageError("专报需要事件编号：yuqing briefing event 事件编号")
    if kind != "event" and event_id is not None:
        raise click.UsageError("只有专报（event）需要事件编号")
    if output and not fmt:
        raise click.UsageError("--output 需要同时给出 --format")
    period = None
    if day and kind != "event":
        try:
            period = period_for(kind, date.fromisoformat(day))
        except ValueError as exc:
            raise click.BadParameter("日期格式应为 YYYY-MM-DD", param_hint="--date") from exc
    ensure_ready(app)
    try:
        done = handle_one(app, kind, period=period, event_id=event_id,
                          formats=[fmt] if fmt else None, deliver=send)
    except (BriefingError, LookupError) as exc:
        raise click.ClickException(str(exc)) from exc
    files = [str(p) for p in done.files]
    if output:
        shutil.copyfile(done.files[0], output)
        files = [str(Path(output).resolve())]
    click.echo(f"已生成{KINDS[kind]}：{'、'.join(files)}")
    if send:
        click.echo(f"已加入发送队列 {done.queued} 条（由通知任务发送）")
    if as_json:
        click.echo(json.dumps({"kind": kind, "stem": done.stem, "files": files,
                               "queued": done.queued}, ensure_ascii=False))

"""`yuqing sla sweep`, `yuqing notify deliver`, `yuqing notify enable`: run the jobs once."""

from __future__ import annotations

import json
from typing import Any

import click

from routing.notify.outbox import disabled_channels, enable_channel
from yuqing.jobs import deliver_job, sla_sweep_job


@click.command("sla-sweep")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON")
@click.pass_obj
def sla_sweep(app: Any, as_json: bool) -> None:
    """执行一次时限巡检：临期提醒、超时标记、升级与催办。"""
    result = {"steps": sla_sweep_job(app)}
    click.echo(f"时限巡检完成：处理 {result['steps']} 步")
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))


@click.command("notify-deliver")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON")
@click.pass_obj
def notify_deliver(app: Any, as_json: bool) -> None:
    """发送一次待发通知（失败的按退避重试）。"""
    result = {"sent": deliver_job(app), "disabled": disabled_channels(app.db)}
    click.echo(f"通知发送 {result['sent']} 条")
    for name, reason in result["disabled"].items():
        click.echo(f"渠道「{name}」已停用：{reason}", err=True)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))


@click.command("notify-enable")
@click.argument("channel")
@click.pass_obj
def notify_enable(app: Any, channel: str) -> None:
    """修复后重新启用一个被自动停用的通知渠道。"""
    names = {c.name for c in app.settings.channels.channels}
    if channel not in names:
        raise click.BadParameter(f"未知的通知渠道 {channel!r}", param_hint="CHANNEL")
    enable_channel(app.db, channel, app.now())
    click.echo(f"渠道「{channel}」已重新启用")


COMMANDS: list[click.Command] = [sla_sweep, notify_deliver, notify_enable]

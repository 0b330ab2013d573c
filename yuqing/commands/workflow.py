"""`yuqing sla sweep`, `yuqing notify deliver`, `yuqing notify enable`: run the jobs once."""

from __future__ import annotations

import json
from typing import Any

import click

from routing.escalation import sweep
from routing.notify.outbox import deliver_due, disabled_channels, enable_channel
from routing.policy import Policy
from store import utcnow
from yuqing.jobs import channels_for
from yuqing.routing_setup import sla_config_from_settings
from yuqing.settings import Settings


def run_sweep(settings: Settings, db: Any) -> dict[str, Any]:
    steps = sweep(db, utcnow(), policy=Policy(sla=sla_config_from_settings(settings)))
    return {"steps": steps}


def run_deliver(ctx: Any) -> dict[str, Any]:
    sent = deliver_due(ctx.db, channels_for(ctx), utcnow())
    return {"sent": sent, "disabled": disabled_channels(ctx.db)}


@click.command("sla-sweep")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON")
@click.pass_obj
def sla_sweep(app: Any, as_json: bool) -> None:
    """执行一次时限巡检：临期提醒、超时标记、升级与催办。"""
    result = run_sweep(app.settings, app.db)
    click.echo(f"时限巡检完成：处理 {result['steps']} 步")
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))


@click.command("notify-deliver")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON")
@click.pass_obj
def notify_deliver(app: Any, as_json: bool) -> None:
    """发送一次待发通知（失败的按退避重试）。"""
    result = run_deliver(app)
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
    enable_channel(app.db, channel, utcnow())
    click.echo(f"渠道「{channel}」已重新启用")


COMMANDS: list[click.Command] = [sla_sweep, notify_deliver, notify_enable]

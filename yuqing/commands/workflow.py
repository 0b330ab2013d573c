"""`yuqing sla-sweep`, `notify-deliver`, `notify-enable`, `notify-status`: the jobs once, and
the channels' health."""

from __future__ import annotations

import json
from typing import Any

import click

from routing.notify.health import channel_health, delivery_alerts
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
    sent = deliver_job(app)
    alerts = delivery_alerts(app.db, app.now())
    result = {"sent": sent, "disabled": disabled_channels(app.db), "dead": alerts["dead"]}
    click.echo(f"通知发送 {result['sent']} 条")
    for name, reason in result["disabled"].items():
        click.echo(f"渠道「{name}」已停用：{reason}", err=True)
    for name, n in result["dead"].items():
        click.echo(f"渠道「{name}」有 {n} 条通知重试期满仍未送达（yuqing notify-status 查看）",
                   err=True)
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


@click.command("notify-status")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON")
@click.pass_obj
def notify_status(app: Any, as_json: bool) -> None:
    """各通知渠道的健康：待发、送达未知、未能送达、停用原因、最近成功与失败。"""
    kinds = {c.name: c.kind for c in app.settings.channels.channels if c.enabled}
    health = channel_health(app.db, kinds, app.now())
    for c in health:
        line = (f"{c['name']}（{c['kind'] or '未配置'}）：{c['status']}；待发 {c['pending']}，"
                f"已送达 {c['sent']}，送达未知 {c['unknown']}，地址被拒 {c['failed']}，"
                f"未能送达 {c['dead']}")
        if c["disabled_reason"]:
            line += f"；停用原因：{c['disabled_reason']}"
        if c["last_error"]:
            line += f"；最近失败：{c['last_error']}"
        click.echo(line)
    if as_json:
        click.echo(json.dumps({"channels": health}, ensure_ascii=False))


COMMANDS: list[click.Command] = [sla_sweep, notify_deliver, notify_enable, notify_status]

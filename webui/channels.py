"""Notification channel health: the page, its JSON twin, and the queue banner's data."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy.orm import Session

from routing.notify.health import BANNER_DAYS, channel_health, delivery_alerts
from store import Database, Role
from webui.clock import now
from webui.security import login_required

bp = Blueprint("channels", __name__)
WATCHERS = (Role.ADMIN, Role.MONITOR, Role.LEADER)


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


def _health() -> list[dict[str, Any]]:
    enabled = current_app.config.get("YUQING_CHANNELS", {})
    if callable(enabled):  # the wiring's: the channels in force after edits at the admin desk
        enabled = enabled()
    return channel_health(_db(), enabled, now())


def banner(session: Session | None = None) -> dict[str, Any]:
    """What the queue page warns about: messages given up, channels switched off (in the
    page's session when given)."""
    return delivery_alerts(session or _db(), now())


@bp.get("/channels")
@login_required(*WATCHERS)
def page() -> Any:
    return render_template("channels.html", channels=_health(), days=BANNER_DAYS)


@bp.get("/api/v1/channels")
@login_required(*WATCHERS)
def api() -> Any:
    return jsonify(channels=_health())


def openapi_paths() -> dict[str, Any]:
    return {"/api/v1/channels": {"get": {
        "summary": "通知渠道健康：待发、未能送达（dead）、送达未知、停用原因、最近成功与失败",
        "responses": {"200": {"description": "各渠道状态",
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                      "401": {"description": "未登录"}, "403": {"description": "无权限"}}}}}

"""Build the Flask console from an AppContext (the wiring side of webui.create_app)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from routing.policy import Policy
from webui import create_app
from yuqing.admin_settings import SettingsDesk
from yuqing.admin_sources import SourceDesk
from yuqing.admin_units import UnitDesk
from yuqing.briefings import briefing_setup
from yuqing.context import AppContext
from yuqing.pipeline import stats
from yuqing.schemes import known_from_settings, yaml_scheme_dicts
from yuqing.settings import ensure_secret_key, shipped_config_dir


def _yaml_schemes(app: AppContext) -> Callable[[], list[dict[str, Any]]]:
    """schemes.yaml as the console lists it, parsed again only when the file (or the settings
    it is checked against) changed: the queue page asks on every request."""
    cache: dict[str, Any] = {}

    def current() -> list[dict[str, Any]]:
        paths = (app.settings.home / "schemes.yaml", shipped_config_dir() / "schemes.yaml")
        stamp = (id(app.settings), *((p.stat().st_mtime_ns, p.stat().st_size)
                                     if p.is_file() else None for p in paths))
        if cache.get("stamp") != stamp:
            cache["value"] = yaml_scheme_dicts(app.settings)
            cache["stamp"] = stamp
        return [dict(entry) for entry in cache["value"]]

    return current


def send_after_actions(web_app: Flask, app: AppContext) -> None:
    """A console action that queued notifications has them sent at once (``yuqing run``)."""
    from flask import request

    from yuqing.workers import Sender

    sender = Sender(app)

    @web_app.after_request
    def _send(response):  # type: ignore[no-untyped-def]
        if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
            sender.wake()
        return response


def build_web(app: AppContext, **config: object) -> Flask:
    topics = {t.key: t.name for t in app.settings.taxonomy.topics}
    web = app.settings.app.web
    # reports compute deadlines with the configured SLA and read "now" from the app's clock
    defaults: dict[str, object] = {
        "YUQING_TOPICS": topics, "YUQING_TIMEZONE": app.settings.app.timezone,
        "YUQING_SECURE_COOKIE": web.secure_cookie, "YUQING_PROXY_HOPS": web.proxy_hops,
        # callables: the SLA and channels in force, after any edit at the admin desk
        "YUQING_SLA": lambda: Policy.from_settings(app.fresh_settings()).sla,
        "YUQING_REPLY_DAYS": app.settings.app.reports.reply_days,
        "YUQING_HOME_PLACE": app.settings.jurisdictions.home.code,
        "YUQING_MAP_DIR": str(app.settings.home / "map"),
        "YUQING_CHANNELS": lambda: {c.name: c.kind for c in app.fresh_settings().channels.channels
                                    if c.enabled},
        "YUQING_BRIEFING": briefing_setup(app),
        "YUQING_SCHEME_KNOWN": known_from_settings(app.settings),
        "YUQING_YAML_SCHEMES": _yaml_schemes(app),
        "YUQING_PLACES": {p.code: p.name for p in app.settings.jurisdictions.home_places()}}
    web_app = create_app(app.db, app.index, ensure_secret_key(app.settings),
                         stats=lambda: stats(app), clock=app.now, **{**defaults, **config})
    # the admin desk edits units through the wiring: webui never imports yuqing
    web_app.extensions["yuqing.unit_desk"] = UnitDesk(app)
    web_app.extensions["yuqing.source_desk"] = SourceDesk(app)
    web_app.extensions["yuqing.settings_desk"] = SettingsDesk(app)
    return web_app

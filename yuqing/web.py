"""Build the Flask console from an AppContext (the wiring side of webui.create_app)."""

from __future__ import annotations

from flask import Flask

from routing.policy import Policy
from webui import create_app
from yuqing.briefings import briefing_setup
from yuqing.context import AppContext
from yuqing.pipeline import stats
from yuqing.settings import ensure_secret_key


def build_web(app: AppContext, **config: object) -> Flask:
    topics = {t.key: t.name for t in app.settings.taxonomy.topics}
    # reports compute deadlines with the configured SLA and read "now" from the app's clock
    return create_app(app.db, app.index, ensure_secret_key(app.settings),
                      stats=lambda: stats(app), YUQING_TOPICS=topics,
                      YUQING_TIMEZONE=app.settings.app.timezone,
                      YUQING_SLA=Policy.from_settings(app.settings).sla,
                      YUQING_BRIEFING=briefing_setup(app), YUQING_CLOCK=app.now, **config)

"""The console as a WSGI application for several web processes behind a proxy.

    gunicorn -w 4 -b 127.0.0.1:8601 'yuqing.wsgi:create()'
    waitress-serve --listen=127.0.0.1:8601 --call yuqing.wsgi:create

The instance folder comes from ``YUQING_HOME`` (and the database from ``YUQING_DATABASE_URL``
or its settings.yaml), as for the ``yuqing`` command. Such a process is role ``web``: the
database must be migrated first (``yuqing db upgrade``), workers and the scheduler run apart.
"""

from __future__ import annotations

import os

from flask import Flask

from yuqing.context import AppContext
from yuqing.roles import Runtime, check_role


def create() -> Flask:
    from yuqing.web import build_web, send_after_actions

    ctx = AppContext(os.environ.get("YUQING_HOME"))
    check_role(ctx, "web")
    runtime = Runtime(ctx, "web")  # nothing in the background: only its /healthz
    web = build_web(ctx, YUQING_HEALTH=runtime.health)
    send_after_actions(web, ctx)
    return web

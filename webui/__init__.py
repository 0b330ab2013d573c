"""Show and act: the Flask console, built by ``create_app`` from what the caller passes in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g, jsonify, render_template
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from routing.reports import PeriodError
from routing.reports.briefing import BriefingNotFound
from store import Database
from store.search import QuerySyntaxError, SearchIndex
from store.validation import error_message, location
from webui.accounts import SESSION_LIFETIME, AccountError
from webui.briefing import BriefingError
from webui.scheme_queries import SchemeInvalid
from webui.security import init_security, is_api_request
from webui.services import CorrectionError, NotFound
from webui.workflow import UnknownAction, WorkflowUnavailable, error_status, workflow


def create_app(db: Database, index: SearchIndex | None, secret_key: str,
               stats: Any = None, clock: Callable[[], datetime] | None = None,
               **config: Any) -> Flask:
    """Build the console. Nothing here runs at import time; tests build as many as they like.

    ``config`` goes into ``app.config``; ``YUQING_TOPICS`` ({key: 中文名}) names the topics,
    ``YUQING_SECURE_COOKIE`` (auto/always/never) and ``YUQING_PROXY_HOPS`` (trusted proxies)
    are the cookie and proxy settings described in webui/security.py.
    ``clock`` is "now" for pages that compute periods (tests pass a fixed one).
    ``YUQING_CHANNELS`` ({name: kind}) names the enabled notification channels.
    """
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret_key, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_NAME="yuqing_session",
                      PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
                      MAX_CONTENT_LENGTH=1_000_000, JSON_AS_ASCII=False, **config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["yuqing.db"] = db
    app.extensions["yuqing.index"] = index
    app.extensions["yuqing.stats"] = stats
    app.extensions["yuqing.clock"] = clock
    # Every <int:...> in a route is a database id: beyond 64 bits it cannot exist (404),
    # instead of overflowing the driver (500).
    app.url_map.converters["int"] = BoundedInt
    init_security(app)

    from webui import (
        admin,
        admin_settings,
        admin_sources,
        api,
        auth,
        briefings,
        cases,
        channels,
        dashboard,
        inbox,
        replies,
        reports,
        schemes,
        search,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(channels.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(replies.bp)
    app.register_blueprint(briefings.bp)
    app.register_blueprint(briefings.api)
    app.register_blueprint(reports.bp)
    app.register_blueprint(reports.api_bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(dashboard.api_bp)
    app.register_blueprint(schemes.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin.api_bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(inbox.api_bp)
    app.register_blueprint(admin_sources.bp)
    app.register_blueprint(admin_sources.api_bp)
    app.register_blueprint(admin_settings.bp)
    app.register_blueprint(admin_settings.api_bp)
    _register_errors(app)

    zone = ZoneInfo(app.config.get("YUQING_TIMEZONE", "Asia/Shanghai"))

    @app.template_filter("localtime")
    def _localtime(value: str | datetime | None) -> str:
        if not value:
            return "—"
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    @app.template_filter("is_http")
    def _is_http(value: str | None) -> bool:
        # Crawled links are shown only when they are web addresses (never javascript: etc.).
        return bool(value) and str(value).lower().startswith(("http://", "https://"))

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"viewer": g.get("viewer")}

    @app.get("/healthz")
    def healthz() -> Any:
        with db.engine.connect():
            pass
        # the wiring adds what this process runs and the queue lengths (yuqing/roles.py)
        extra = app.config.get("YUQING_HEALTH")
        return jsonify(status="ok", **(extra() if callable(extra) else {}))

    return app


MAX_ID = 2**63 - 1  # the largest BIGINT on PostgreSQL and INTEGER on SQLite


class BoundedInt(IntegerConverter):
    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _register_errors(app: Flask) -> None:
    """Domain errors map to HTTP here, once; views never catch them."""

    def handle(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            status, message = exc.code or 500, _http_message(exc)
        elif isinstance(exc, ValidationError):
            status = 400
            message = "；".join(f"{location(e['loc']) or '输入'}：{error_message(e)}"
                               for e in exc.errors(include_url=False))
        elif isinstance(exc, NotFound):
            status, message = 404, "工单不存在或无权查看"
        elif isinstance(exc, CorrectionError):
            status, message = 409 if "他人修改" in str(exc) else 400, str(exc)
        elif isinstance(exc, WorkflowUnavailable):
            status, message = 503, "处置流程模块尚未安装，控制台目前只读"
        elif isinstance(exc, UnknownAction | BriefingNotFound):
            status, message = 404, str(exc)
        elif isinstance(exc, BriefingError | PeriodError | QuerySyntaxError | SchemeInvalid
                        | AccountError):
            status, message = 400, str(exc)
        else:  # the workflow's own errors: messages are Chinese and safe to show
            status, message = error_status(exc), str(exc)
        if is_api_request():
            return jsonify(error=message, status=status), status
        return render_template("error.html", status=status, message=message), status

    for cls in (HTTPException, ValidationError, NotFound, CorrectionError, WorkflowUnavailable,
                UnknownAction, BriefingError, BriefingNotFound, PeriodError, QuerySyntaxError,
                SchemeInvalid, AccountError):
        app.register_error_handler(cls, handle)
    wf = workflow()
    if wf is not None:
        app.register_error_handler(wf.WorkflowError, handle)


HTTP_MESSAGES = {400: "请求有误", 401: "请先登录", 403: "无权访问此页面", 404: "页面不存在",
                 405: "不支持的请求方法", 413: "请求过大", 500: "服务器内部错误"}


def _http_message(exc: HTTPException) -> str:
    # werkzeug's default descriptions are English; ours (set via abort(description=...)) are not.
    default = type(exc).description
    if exc.description and exc.description != default:
        return exc.description
    return HTTP_MESSAGES.get(exc.code or 500, "请求失败")

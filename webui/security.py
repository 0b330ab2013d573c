"""Who is asking, CSRF on every state-changing request, and the security headers."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Flask,
    abort,
    current_app,
    g,
    has_request_context,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from store import Role
from webui.accounts import Viewer, session_viewer, user_for_token

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# No inline script anywhere: every script is a static file, so an injected <script> or
# onerror= attribute cannot run even if escaping were ever missed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _load_viewer() -> None:
    db = current_app.extensions["yuqing.db"]
    g.viewer, g.token_auth = None, False
    token = _bearer()
    if token is not None:
        g.viewer = user_for_token(db, token)
        g.token_auth = g.viewer is not None
        if g.viewer is None:
            return
    elif "sid" in session:
        # Checked on every request: logout, a new password or a disabled user end it at once.
        g.viewer = session_viewer(db, str(session["sid"]))
        if g.viewer is None:
            session.clear()
    if request.method in SAFE_METHODS or g.token_auth:
        return  # a bearer token is not sent by browsers on their own: no CSRF risk
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    expected = session.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="请求校验失败（CSRF），请刷新页面后重试")


def _headers(response: Any) -> Any:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


class _SessionInterface(SecureCookieSessionInterface):
    """The cookie gets ``Secure`` per YUQING_SECURE_COOKIE: always, never, or auto (= when
    this request came over HTTPS, as seen directly or through YUQING_PROXY_HOPS proxies)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        mode = app.config.get("YUQING_SECURE_COOKIE", "auto")
        if mode == "always":
            return True
        if mode == "never":
            return False
        return has_request_context() and request.is_secure


def init_security(app: Flask) -> None:
    hops = int(app.config.get("YUQING_PROXY_HOPS", 0))
    if hops:  # trust X-Forwarded-For/-Proto from exactly this many proxies in front of us
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops,  # type: ignore[method-assign]
                                x_proto=hops)
    app.session_interface = _SessionInterface()
    app.before_request(_load_viewer)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token


def current_viewer() -> Viewer:
    viewer: Viewer | None = g.get("viewer")
    if viewer is None:
        abort(401)
    return viewer


def login_required(*roles: Role) -> Callable[[F], F]:
    """Require a signed-in user (and one of ``roles`` when given)."""

    def wrap(view: F) -> F:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            viewer = g.get("viewer")
            if viewer is None:
                if is_api_request():
                    return jsonify(error="未登录或令牌无效"), 401
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if roles and viewer.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap

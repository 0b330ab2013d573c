"""Sign in and out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from store import Role
from webui.accounts import LoginRefused, authenticate, end_session, start_session

bp = Blueprint("auth", __name__)


def home_for(role: Role) -> str:
    """Units land on their cases, leaders on the dashboard, monitors and admins on the queue."""
    if role == Role.UNIT:
        return url_for("cases.my_cases")
    return url_for("dashboard.page") if role == Role.LEADER else url_for("cases.queue")


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: an absolute or protocol-relative URL would be an open redirect.
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")[:64]
        password = request.form.get("password", "")[:256]
        db = current_app.extensions["yuqing.db"]
        try:
            viewer = authenticate(db, username, password, client=request.remote_addr or "")
        except LoginRefused as exc:
            current_app.logger.warning("sign-in refused (%s) for %r from %s", exc.reason,
                                       username, request.remote_addr)
            error = str(exc)
        else:
            session.clear()  # a fresh session on sign-in: no fixation
            session.permanent = True
            session["sid"] = start_session(db, viewer.user_id)
            return redirect(_safe_next(request.args.get("next")) or home_for(viewer.role))
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout() -> Any:
    if "sid" in session:  # ended on the server: a copy of the cookie is worthless from now on
        end_session(current_app.extensions["yuqing.db"], str(session["sid"]))
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/")
def index() -> Any:
    viewer = g.get("viewer")
    if viewer is None:
        return redirect(url_for("auth.login"))
    return redirect(home_for(viewer.role))

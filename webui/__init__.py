"""Show and act: the Flask console, built by ``create_app`` from what the caller passes in."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template

from store import Database
from store.search import SearchIndex


def create_app(db: Database, index: SearchIndex | None, secret_key: str,
               stats: Any = None, **config: Any) -> Flask:
    """Build the console. Nothing here runs at import time; tests build as many as they like."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret_key, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", JSON_AS_ASCII=False, **config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["yuqing.db"] = db
    app.extensions["yuqing.index"] = index
    app.extensions["yuqing.stats"] = stats

    @app.get("/healthz")
    def healthz() -> Any:
        with db.engine.connect():
            pass
        return jsonify(status="ok")

    @app.get("/")
    def home() -> Any:
        numbers = stats() if stats else {}
        return render_template("home.html", stats=numbers)

    return app

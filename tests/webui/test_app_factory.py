from __future__ import annotations

from flask import Flask

from yuqing.context import AppContext
from yuqing.web import build_web


def test_the_factory_builds_independent_apps(ctx: AppContext) -> None:
    a, b = build_web(ctx), build_web(ctx)
    assert isinstance(a, Flask) and a is not b
    assert a.test_client().get("/healthz").get_json() == {"status": "ok"}
    page = b.test_client().get("/", follow_redirects=True)
    assert page.status_code == 200
    assert "舆情监测与回应协同平台" in page.get_data(as_text=True)
    assert "登录" in page.get_data(as_text=True)

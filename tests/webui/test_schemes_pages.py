"""The scheme desk: who may use it, create/edit/disable, and validation that says the same
as the schemes.yaml loader."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select, update

from store import Database, Post, Scheme
from tests.webui.conftest import Browser
from yuqing.context import AppContext
from yuqing.schemes import load_yaml_schemes, schemes_job
from yuqing.settings import ConfigError, Settings

GOOD = {"name": "东山水污染", "owner": "值班员", "query": '污水 | 臭水 东山 -"已整改"',
        "topics": ["environment"], "tag": "1", "alert_mode": "each",
        "alert_count": "5", "alert_minutes": "60",
        "subscribers": "wecom https://qyapi.example.cn/hook\nconsole jn-dongshan",
        "case_severity": "4"}


@pytest.mark.parametrize(("persona", "status"), [("admin", 200), ("monitor", 200),
                                                  ("leader", 403), ("street", 403)])
def test_role_matrix_for_the_scheme_pages(login: Callable[[str], Browser], persona: str,
                                          status: int) -> None:
    b = login(persona)
    assert b.get("/schemes").status_code == status
    assert b.get("/schemes/new").status_code == status
    assert b.post("/schemes/new", data=GOOD).status_code == (302 if status == 200 else 403)
    assert b.get("/api/v1/schemes").status_code == status
    nav = b.get("/reports/replies").get_data(as_text=True)
    assert ("监测方案" in nav) == (status == 200)


def test_anonymous_is_sent_to_sign_in(app) -> None:  # type: ignore[no-untyped-def]
    r = app.test_client().get("/schemes")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_create_edit_disable_and_enable(login: Callable[[str], Browser], db: Database) -> None:
    b = login("monitor")
    assert b.post("/schemes/new", data=GOOD).status_code == 302
    with db.session() as s:
        row = s.scalars(select(Scheme)).one()
        assert row.key == f"console-{row.id}" and row.enabled
        assert row.spec["subscribers"] == [{"channel": "wecom", "to": "https://qyapi.example.cn/hook"},
                                           {"channel": "console", "to": "jn-dongshan"}]
        assert row.spec["topics"] == ["environment"] and row.updated_by == "monitor用户"
    page = b.get("/schemes").get_data(as_text=True)
    assert "东山水污染" in page and "每条新信息推送" in page
    edit = b.get(f"/schemes/{row.id}/edit").get_data(as_text=True)
    assert "wecom https://qyapi.example.cn/hook" in edit
    r = b.post(f"/schemes/{row.id}/edit", data={**GOOD, "name": "东山水环境", "alert_mode": "window",
                                                "alert_count": "3", "alert_minutes": "30"})
    assert r.status_code == 302
    assert b.post(f"/schemes/{row.id}/disable").status_code == 302
    with db.session() as s:
        row = s.get(Scheme, row.id)
        assert row is not None and row.name == "东山水环境" and not row.enabled
        assert row.spec["alert"] == {"mode": "window", "count": 3, "minutes": 30}
    assert "已停用" in b.get("/schemes").get_data(as_text=True)
    assert b.post(f"/schemes/{row.id}/enable").status_code == 302
    with db.session() as s:
        assert s.get(Scheme, row.id).enabled  # type: ignore[union-attr]
    assert b.get("/schemes/999/edit").status_code == 404


BAD_CASES = [
    # (console form fields, YAML item fields, the reason both must give)
    ({"query": '"未闭合'}, {"query": '"未闭合'}, "引号不成对"),
    ({"query": "-仅排除"}, {"query": "-仅排除"}, "至少需要一个不带减号的检索词"),
    ({"alert_count": "很多", "alert_mode": "window"},
     {"alert": {"mode": "window", "count": "很多"}}, "应为整数"),
    ({"subscribers": "qq 123"}, {"subscribers": [{"channel": "qq", "to": "123"}]},
     "未知的通知渠道 'qq'"),
    ({"subscribers": "email 不是邮箱"}, {"subscribers": [{"channel": "email", "to": "不是邮箱"}]},
     "邮件订阅需要有效的邮箱地址"),
    ({"topics": ["nonsense"]}, {"topics": ["nonsense"]}, "未知的领域 'nonsense'"),
    ({"subscribers": "", "alert_mode": "each"}, {"subscribers": [], "alert": {"mode": "each"}},
     "开启推送时至少需要一个订阅渠道"),
]


@pytest.mark.parametrize(("form", "item", "reason"), BAD_CASES)
def test_console_and_yaml_validation_give_the_same_message(
        login: Callable[[str], Browser], settings: Settings, db: Database,
        form: dict[str, object], item: dict[str, object], reason: str) -> None:
    b = login("monitor")
    r = b.post("/schemes/new", data={**GOOD, **form})
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 400 and reason in page
    api = b.post_json("/api/v1/schemes", {"name": "测试", "query": "污水",
                                          "subscribers": [{"channel": "console"}], **item})
    assert api.status_code == 400 and reason in api.get_json()["error"]
    path = Path(settings.home) / "schemes.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"schemes": [{"key": "bad", "name": "测试", "query": "污水",
                                                 **item}]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_yaml_schemes(settings)
    assert any(reason in p.reason and p.file == str(path) and p.path.startswith("schemes[0]")
               for p in err.value.problems), err.value
    with db.session() as s:
        assert s.scalars(select(Scheme)).all() == []


def test_yaml_schemes_are_listed_read_only(login: Callable[[str], Browser],
                                           settings: Settings) -> None:
    (Path(settings.home) / "schemes.yaml").write_text(yaml.safe_dump({"schemes": [
        {"key": "airport", "name": "禄口机场", "query": "禄口 机场"}]}, allow_unicode=True),
        encoding="utf-8")
    page = login("admin").get("/schemes").get_data(as_text=True)
    assert "禄口机场" in page and "schemes.yaml" in page and "在配置文件中修改" in page


def test_hostile_scheme_names_are_escaped(login: Callable[[str], Browser]) -> None:
    b = login("monitor")
    b.post("/schemes/new", data={**GOOD, "name": "<script>alert(1)</script>"})
    page = b.get("/schemes").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_matched_posts_are_tagged_on_the_case_page_and_filter_the_queue(
        login: Callable[[str], Browser], ctx: AppContext, db: Database,
        make_case: Callable[..., int]) -> None:
    b = login("monitor")
    made = b.post_json("/api/v1/schemes", {"name": "小区污水", "query": "污水 -机场"})
    assert made.status_code == 201
    key = made.get_json()["key"]
    water = make_case("东山街道某小区污水外溢")
    flight = make_case("禄口机场航班延误", text="机场污水？不，航班延误")
    with db.session() as s:
        s.execute(update(Post).values(analyzed_at=datetime(2026, 11, 23, 2, tzinfo=UTC)))
    assert schemes_job(ctx) == 2
    assert "方案：小区污水" in b.get(f"/cases/{water}").get_data(as_text=True)
    assert "方案：小区污水" not in b.get(f"/cases/{flight}").get_data(as_text=True)
    rows = b.get(f"/api/v1/cases?scheme={key}").get_json()
    assert [c["id"] for c in rows["cases"]] == [water] and rows["total"] == 1
    queue = b.get(f"/queue?scheme={key}").get_data(as_text=True)
    assert "东山街道某小区污水外溢" in queue and "禄口机场航班延误" not in queue


def test_the_scheme_api_is_in_a_valid_openapi_document(app) -> None:  # type: ignore[no-untyped-def]
    from openapi_spec_validator import validate

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(doc)
    assert {"get", "post"} <= set(doc["paths"]["/api/v1/schemes"])
    assert "put" in doc["paths"]["/api/v1/schemes/{scheme_id}"]

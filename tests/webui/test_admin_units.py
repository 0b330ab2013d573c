"""Admin desk, units: forms validated exactly like units.yaml, console edits stored in the
instance, audited, effective without a restart; retiring a unit that still holds cases."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from store import Case, ConfigChange, Event, Post, PostPlace, Source, Unit
from tests.webui.conftest import Browser
from yuqing.admin_units import UnitDesk
from yuqing.casework import case_router
from yuqing.context import AppContext
from yuqing.settings import ConfigError, Settings, load_settings, shipped_config_dir

GOOD = {"name": "南京市江宁区谷里街道综合执法局", "short_name": "谷里执法局", "aliases": [],
        "kind": "department", "jurisdiction": "320115", "duties": ["environment"],
        "leader": {"name": "周局长", "phone": "13800000099", "email": ""},
        "contacts": {"email": "zf@jiangning.example", "phone": "", "wecom": "", "dingtalk": "",
                     "webhook": ""}}

# (what differs from GOOD, the form field that should be highlighted)
BAD = [({"code": "Bad Code"}, "code"), ({"kind": "village"}, "kind"), ({"name": ""}, "name"),
       ({"jurisdiction": "999999"}, "jurisdiction"), ({"duties": ["no_such_topic"]}, "duties"),
       ({"kind": "township", "jurisdiction": "320115"}, "jurisdiction"),
       ({"kind": "township", "jurisdiction": "320115012"}, "jurisdiction"),  # 湖熟: jn-hushu
       ({"code": "jn-edu"}, None), ({"code": "x" * 65}, "code")]


MARKERS = {"code": '<label class="invalid">单位代码', "kind": '<label class="invalid">类别',
           "name": '<label class="invalid">全称', "jurisdiction": '<label class="invalid">辖区',
           "duties": '<fieldset class="invalid"><legend>职责领域'}


def _form(record: dict[str, Any]) -> dict[str, Any]:
    leader = record.get("leader") or {}
    return {"code": record["code"], "name": record["name"], "short_name": record["short_name"],
            "aliases": "、".join(record["aliases"]), "kind": record["kind"],
            "jurisdiction": record["jurisdiction"], "duties": record["duties"],
            **{f"leader_{k}": leader.get(k, "") for k in ("name", "phone", "email")},
            **{f"contact_{k}": v for k, v in record["contacts"].items()}}


def _yaml_reasons(settings: Settings, tmp_path: Path, record: dict[str, Any]) -> list[str]:
    """What loading an instance units.yaml with this unit added says."""
    home = tmp_path / "yaml-home"
    home.mkdir(exist_ok=True)
    shipped = yaml.safe_load((shipped_config_dir() / "units.yaml").read_text(encoding="utf-8"))
    shipped["units"].append(record)
    (home / "units.yaml").write_text(yaml.safe_dump(shipped, allow_unicode=True),
                                     encoding="utf-8")
    try:
        load_settings(home, environ={"YUQING_DATABASE_URL": settings.database_url})
    except ConfigError as exc:
        return [p.reason for p in exc.problems]
    return []


@pytest.mark.parametrize(("change", "field"), BAD)
def test_the_unit_form_refuses_what_units_yaml_refuses_with_the_same_messages(
        change: dict[str, Any], field: str | None, login: Callable[[str], Browser],
        settings: Settings, tmp_path: Path) -> None:
    record = {"code": "jn-zf", **GOOD, **change}
    reasons = _yaml_reasons(settings, tmp_path, record)
    assert reasons  # the YAML refuses it
    r = login("admin").post("/admin/units/new", _form(record))
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 400
    for reason in reasons:
        assert reason in page, (reason, change)
    if field:
        assert MARKERS[field] in page, field  # the field is highlighted
    assert not (settings.home / "console" / "units.yaml").exists()  # nothing written


def test_a_unit_the_yaml_accepts_is_created_stored_in_the_instance_and_audited(
        login: Callable[[str], Browser], ctx: AppContext, tmp_path: Path) -> None:
    record = {"code": "jn-zf", **GOOD}
    assert _yaml_reasons(ctx.settings, tmp_path, record) == []
    r = login("admin").post("/admin/units/new", _form(record))
    assert r.status_code == 302, html.unescape(r.get_data(as_text=True))
    stored = yaml.safe_load((ctx.settings.home / "console" / "units.yaml").read_text("utf-8"))
    assert stored["units"]["jn-zf"]["short_name"] == "谷里执法局"
    # what `yuqing config check` loads: the shipped YAML with the console's edit merged
    fresh = load_settings(ctx.settings.home,
                          environ={"YUQING_DATABASE_URL": ctx.settings.database_url})
    assert fresh.units.get("jn-zf") is not None
    with ctx.db.session() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "jn-zf"))
        assert unit is not None and unit.active and unit.duties == ["environment"]
        change = s.scalar(select(ConfigChange).where(ConfigChange.key == "jn-zf"))
        assert (change.action, change.username, change.before) == ("create", "admin", {})
        assert change.after["leader"]["name"] == "周局长"


def test_an_edit_stores_only_the_changed_keys_and_records_before_and_after(
        login: Callable[[str], Browser], ctx: AppContext) -> None:
    admin = login("admin")
    page = admin.get("/admin/units/jn-edu")
    assert "张局长" in page.get_data(as_text=True)
    unit = ctx.settings.units.get("jn-edu").model_dump(mode="json")
    form = _form({**unit, "leader": {**unit["leader"], "name": "新局长"}})
    assert admin.post("/admin/units/jn-edu", form).status_code == 302
    stored = yaml.safe_load((ctx.settings.home / "console" / "units.yaml").read_text("utf-8"))
    assert stored["units"] == {"jn-edu": {"leader": {"name": "新局长", "phone": "13800000003",
                                                     "email": ""}}}
    with ctx.db.session() as s:
        row = s.scalar(select(Unit).where(Unit.code == "jn-edu"))
        assert row.leader["name"] == "新局长"
        change = s.scalar(select(ConfigChange).where(ConfigChange.key == "jn-edu"))
        assert (change.before["leader"]["name"], change.after["leader"]["name"]) == (
            "张局长", "新局长")
    bad = admin.post("/admin/units/jn-edu", {**form, "duties": ["nope"]})
    assert bad.status_code == 400 and "未知的领域 'nope'" in html.unescape(
        bad.get_data(as_text=True))


def test_the_unit_tree_groups_district_units_and_streets(login: Callable[[str], Browser]
                                                        ) -> None:
    page = login("admin").get("/admin/units").get_data(as_text=True)
    assert "区级单位" in page and "谷里街道" in page
    assert page.index('data-unit="jn-edu"') < page.index('data-unit="jn-guli"')


def test_a_unit_holding_open_cases_cannot_be_retired_until_they_are_reassigned(
        login: Callable[[str], Browser], make_case: Callable[..., int], app: Flask) -> None:
    case_id = make_case("谷里街道垃圾堆放", place="320115009", lead="jn-guli",
                        state="dispatched")
    admin, monitor = login("admin"), login("monitor")
    r = admin.post("/admin/units/jn-guli/retire")
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and "请先转办" in page
    assert f'href="/cases/{case_id}"' in page
    r = monitor.post_json(f"/api/v1/cases/{case_id}/actions/reassign",
                          {"lead": "jn-dongshan", "note": "并入东山街道"})
    assert r.status_code == 200, r.get_json()
    assert admin.post("/admin/units/jn-guli/retire").status_code == 302
    # no longer offered for dispatch, and refused when named anyway
    other = make_case("谷里街道噪音")
    options = monitor.get(f"/cases/{other}").get_data(as_text=True)
    assert 'value="jn-guli"' not in options and 'value="jn-dongshan"' in options
    r = monitor.post_json(f"/api/v1/cases/{other}/actions/dispatch", {"lead": "jn-guli"})
    assert r.status_code == 400 and "jn-guli" in r.get_json()["error"], r.get_json()
    # listed as retired, and can come back
    assert 'id="retired"' in admin.get("/admin/units").get_data(as_text=True)
    assert admin.post("/admin/units/jn-guli/restore").status_code == 302
    assert 'value="jn-guli"' in monitor.get(f"/cases/{other}").get_data(as_text=True)


def test_retiring_a_unit_the_configuration_still_names_is_refused_like_the_yaml(
        login: Callable[[str], Browser]) -> None:
    r = login("admin").post("/admin/units/jn-publicity/retire")  # routing.yaml's coordinator
    assert r.status_code == 400
    assert "routing.yaml：coordinator：未知的单位 'jn-publicity'" in html.unescape(
        r.get_data(as_text=True))


def _event_at(ctx: AppContext, place: str, n: int) -> int:
    with ctx.db.session() as s:
        src = s.scalar(select(Source).where(Source.key == "test:weibo"))
        if src is None:
            src = Source(key="test:weibo", name="测试微博", kind="json_api", source_kind="social")
            s.add(src)
            s.flush()
        at = ctx.now()
        event = Event(title="谷里街道河道发黑发臭", topic="environment", severity=3,
                      first_source_id=src.id, first_seen_at=at, last_seen_at=at, post_count=1,
                      source_count=1)
        s.add(event)
        s.flush()
        post = Post(source_id=src.id, external_id=f"e{n}", url=f"https://weibo.example/e{n}",
                    content_hash=f"e{n}", title=event.title, text="谷里街道河道发黑发臭，无人处理。",
                    published_at=at, event_id=event.id, topic="environment", severity=3,
                    analyzed_at=at)
        post.places = [PostPlace(code=place, name="谷里街道", level="township", confidence=1.0)]
        s.add(post)
        s.flush()
        return event.id


def _lead(ctx: AppContext, event_id: int) -> str | None:
    with ctx.db.session() as s:
        case = s.scalar(select(Case).where(Case.event_id == event_id))
        return case.routing.get("lead") if case else None


def test_routing_uses_a_console_edit_for_the_next_decision_without_a_restart(
        ctx: AppContext) -> None:
    route = case_router(ctx)
    first = _event_at(ctx, "320115009", 1)
    route(ctx.db, [first])
    assert _lead(ctx, first) == "jn-guli"
    desk = UnitDesk(ctx)
    assert desk.retire("jn-guli", actor=(None, "test")) == []
    new = {**GOOD, "name": "南京市江宁区谷里新城管理办公室", "short_name": "谷里新城",
           "kind": "township", "jurisdiction": "320115009", "duties": []}
    assert desk.save("jn-guli-new", new, create=True, actor=(None, "test")) == []
    second = _event_at(ctx, "320115009", 2)
    route(ctx.db, [second])  # the same router: no restart
    assert _lead(ctx, second) == "jn-guli-new"
    assert _lead(ctx, first) == "jn-guli"  # existing cases keep theirs
    with ctx.db.session() as s:
        assert s.scalar(select(Unit.active).where(Unit.code == "jn-guli")) is False
        assert s.scalar(select(Unit.active).where(Unit.code == "jn-guli-new")) is True


def test_another_process_picks_up_a_console_edit_by_the_files_stamp(ctx: AppContext) -> None:
    other = AppContext(settings=ctx.settings)  # e.g. the scheduler leader beside the web
    assert other.fresh_settings().units.get("jn-edu").leader.name == "张局长"
    UnitDesk(ctx).save("jn-edu", {"leader": {"name": "新局长", "phone": "", "email": ""}},
                       create=False, actor=(None, "test"))
    assert other.fresh_settings().units.get("jn-edu").leader.name == "新局长"


def test_config_check_validates_the_console_edits_and_names_their_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from yuqing.cli import main

    home = tmp_path / "checked"
    (home / "console").mkdir(parents=True)
    edits = home / "console" / "units.yaml"
    edits.write_text("units:\n  jn-edu:\n    duties: [no_such_topic]\n", encoding="utf-8")
    with pytest.raises(SystemExit) as ended:
        main(["--home", str(home), "config", "check"])
    assert ended.value.code == 2
    assert f"{edits}: units[2].duties[0]: 未知的领域 'no_such_topic'" in capsys.readouterr().err
    edits.write_text("units:\n  jn-edu:\n    leader: {name: 新局长}\nretired: [jn-cac]\n",
                     encoding="utf-8")
    main(["--home", str(home), "config", "check"])
    assert "36 个单位" in capsys.readouterr().out

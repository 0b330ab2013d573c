"""Admin desk, rules and parameters: every form refuses what the YAML refuses (same messages,
the field highlighted), a dry run shows the decisions an edit changes, saved edits are audited,
exported, and used for the next decision without a restart."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from routing.policy import current
from store import Case, ConfigChange, Event, Post, PostPlace, Source
from tests.webui.conftest import Browser
from yuqing.admin_settings import SettingsDesk, form_fields, raw_file
from yuqing.casework import case_router
from yuqing.cli import cli
from yuqing.context import AppContext
from yuqing.jobs import channels_for, configure_workflow
from yuqing.settings import KEYED_LISTS, ConfigError, Settings, load_settings

FIXED = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Nanjing

# (file, form field, what the administrator types): each is refused by the YAML loader
BAD = [
    ("routing", "coordinator", "jn-nope"),
    ("routing", "auto_dispatch/3", "maybe"),
    ("routing", "min_place_confidence", "1.5"),
    ("routing", "lead_order", "education、no_such_topic"),
    ("routing", "overrides", "- name: 专项\n  keywords: [河道]\n  lead: jn-nope\n"),
    ("routing", "overrides", "- name: 专项\n  colour: red\n  keywords: [河道]\n"),
    ("routing", "overrides", "- name: 空规则\n  lead: jn-edu\n"),
    ("taxonomy", "topics/education/departments/district", "jn-nope"),
    ("taxonomy", "topics/education/sensitivity", "high"),
    ("severity", "severity/thresholds/1", "abc"),
    ("sla", "levels/1/sign_minutes", "0"),
    ("sla", "levels/4/calendar", "lunar"),
    ("sla", "working_hours/morning", "13:00、12:00"),
    ("channels", "channels/email/kind", "fax"),
    ("channels", "channels/email/enabled", "sometimes"),
]


def _yaml_text(text: str, kind: str) -> str:
    """The same input as an administrator would write it in the YAML file."""
    if kind == "list":
        return "[" + ", ".join(repr(t) for t in re.split(r"[、,，]", text) if t) + "]"
    return text


def _yaml_problems(settings: Settings, tmp_path: Path, name: str, field: str, text: str
                   ) -> list[tuple[str, str]]:
    """What loading an instance <name>.yaml with this one value changed says."""
    desk_fields = {f.name: f for f in form_fields(name, raw_file(settings, name))}
    f = desk_fields[field]
    data = raw_file(settings, name)
    node: Any = data
    for i, part in enumerate(f.path[:-1]):
        if i == 1 and name in KEYED_LISTS and f.path[0] == KEYED_LISTS[name][0]:
            node = next(r for r in node if r[KEYED_LISTS[name][1]] == part)
        else:
            node = node[part]
    node[f.path[-1]] = "@@VALUE@@"
    document = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)
    if f.kind == "yaml":
        document = document.replace("'@@VALUE@@'", yaml.safe_dump(
            yaml.safe_load(text), allow_unicode=True, default_flow_style=True,
            width=10_000).strip())
    else:
        document = document.replace("'@@VALUE@@'", _yaml_text(text, f.kind))
    home = tmp_path / "yaml-home"
    home.mkdir(exist_ok=True)
    (home / f"{name}.yaml").write_text(document, encoding="utf-8")
    try:
        load_settings(home, environ={"YUQING_DATABASE_URL": settings.database_url})
    except ConfigError as exc:
        return [(p.path, p.reason) for p in exc.problems]
    return []


def _shown(page: str, path: str, reason: str) -> bool:
    """The reason is shown on a highlighted field at (or around) its key path, or on top."""
    for loc, body in re.findall(r'<div class="setting invalid" data-loc="([^"]+)">(.*?)</div>',
                                page, flags=re.S):
        related = (path == loc or path.startswith((loc + ".", loc + "["))
                   or loc.startswith((path + ".", path + "[")))
        if related and reason in body:
            return True
    return f"{path}：{reason}" in page


def _form(ctx: AppContext, name: str, **changes: str) -> dict[str, str]:
    form = {f.name: f.text for f in SettingsDesk(ctx).fields(name)}
    form.update(changes)
    return form


@pytest.mark.parametrize(("name", "field", "text"), BAD)
def test_each_form_refuses_what_the_yaml_refuses_with_the_same_messages(
        name: str, field: str, text: str, login: Callable[[str], Browser], ctx: AppContext,
        tmp_path: Path) -> None:
    expected = _yaml_problems(ctx.settings, tmp_path, name, field, text)
    assert expected  # the YAML refuses it
    desk = SettingsDesk(ctx)
    _, outcome = desk.submit(name, _form(ctx, name, **{field: text}), save=True,
                             actor=(None, "test"))
    assert [(p.path, p.reason) for p in outcome.problems] == expected
    r = login("admin").post(f"/admin/settings/{name}",
                            {**_form(ctx, name, **{field: text}), "action": "save"})
    assert r.status_code == 400
    page = html.unescape(r.get_data(as_text=True))
    for path, reason in expected:
        assert _shown(page, path, reason), (path, reason)
    assert 'class="setting invalid"' in page  # the field is highlighted
    assert not (ctx.settings.home / "console" / f"{name}.yaml").exists()  # nothing written
    with ctx.db.session() as s:
        assert s.scalar(select(ConfigChange.id)) is None


def test_a_yaml_syntax_error_in_a_text_area_names_the_field(
        login: Callable[[str], Browser], ctx: AppContext) -> None:
    r = login("admin").post("/admin/settings/routing",
                            {**_form(ctx, "routing", overrides="- name: [\n"), "action": "save"})
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 400
    assert re.search(r'class="setting invalid" data-loc="overrides">.*YAML 语法错误', page, re.S)


def _post_at(ctx: AppContext, n: int, *, place: str = "320115009", severity: int = 3,
             text: str = "谷里街道河道发黑发臭，无人处理。") -> tuple[int, int]:
    """A stored, analysed post in its own event: (post id, event id)."""
    with ctx.db.session() as s:
        src = s.scalar(select(Source).where(Source.key == "test:weibo"))
        if src is None:
            src = Source(key="test:weibo", name="测试微博", kind="json_api", source_kind="social")
            s.add(src)
            s.flush()
        at = FIXED
        event = Event(title=text[:20], topic="environment", severity=severity,
                      first_source_id=src.id, first_seen_at=at, last_seen_at=at, post_count=1,
                      source_count=1)
        s.add(event)
        s.flush()
        post = Post(source_id=src.id, external_id=f"p{n}", url=f"https://weibo.example/p{n}",
                    content_hash=f"p{n}", title=text[:20], text=text, published_at=at,
                    event_id=event.id, topic="environment", severity=severity, analyzed_at=at)
        post.places = [PostPlace(code=place, name="谷里街道", level="township", confidence=1.0)]
        s.add(post)
        s.flush()
        return post.id, event.id


def _case(ctx: AppContext, event_id: int) -> Case:
    with ctx.db.session() as s:
        case = s.scalar(select(Case).where(Case.event_id == event_id))
        assert case is not None
        s.expunge(case)
        return case


RULE = "- name: 河道专项\n  keywords: [河道]\n  lead: jn-edu\n"


def test_a_dry_run_shows_the_decisions_an_edited_rule_changes_and_saves_nothing(
        login: Callable[[str], Browser], ctx: AppContext) -> None:
    ctx.clock = lambda: FIXED
    river, _ = _post_at(ctx, 1)
    other, _ = _post_at(ctx, 2, text="谷里街道路灯不亮。")
    r = login("admin").post("/admin/settings/routing",
                            {**_form(ctx, "routing", overrides=RULE), "action": "dry_run"})
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 200, page
    assert "最近 2 条已分析信息，1 条的分派结果会改变" in page
    assert f'data-post="{river}"' in page and f'data-post="{other}"' not in page
    row = re.search(rf'<tr data-post="{river}">.*?主办单位.*?</tr>', page, re.S)
    assert row and "jn-guli" in row.group(0) and "jn-edu" in row.group(0)
    assert RULE.splitlines()[0] in page  # the edited value stays in the form
    assert not (ctx.settings.home / "console" / "routing.yaml").exists()


def test_a_saved_edit_is_audited_and_routes_the_next_decision_without_a_restart(
        login: Callable[[str], Browser], ctx: AppContext) -> None:
    ctx.clock = lambda: FIXED
    route = case_router(ctx)  # built before the edit, like a running `yuqing run`
    _, first = _post_at(ctx, 1)
    route(ctx.db, [first])
    assert _case(ctx, first).routing["lead"] == "jn-guli"
    admin = login("admin")
    r = admin.post("/admin/settings/routing",
                   {**_form(ctx, "routing", overrides=RULE), "action": "save"})
    assert r.status_code == 302, html.unescape(r.get_data(as_text=True))
    stored = yaml.safe_load((ctx.settings.home / "console" / "routing.yaml").read_text("utf-8"))
    assert stored == {"overrides": yaml.safe_load(RULE)}  # only the changed key
    _, second = _post_at(ctx, 2)
    route(ctx.db, [second])
    assert _case(ctx, second).routing["lead"] == "jn-edu"
    assert _case(ctx, first).routing["lead"] == "jn-guli"  # existing cases keep theirs
    with ctx.db.session() as s:
        change = s.scalar(select(ConfigChange).where(ConfigChange.file == "routing"))
        assert (change.username, change.action, change.at) == ("admin", "edit", FIXED)
        assert set(change.before) == set(change.after) == {"overrides"}
        assert [r["name"] for r in change.before["overrides"]] == ["涉警舆情", "涉外涉军敏感信息"]
        assert change.after["overrides"] == yaml.safe_load(RULE)
    page = html.unescape(admin.get("/admin/settings/routing").get_data(as_text=True))
    assert 'id="changes"' in page and "admin" in page and "河道专项" in page


def test_sla_and_channel_edits_apply_to_the_next_case_and_delivery_without_a_restart(
        ctx: AppContext) -> None:
    ctx.clock = lambda: FIXED
    configure_workflow(ctx)
    route = case_router(ctx)
    _, first = _post_at(ctx, 1)
    route(ctx.db, [first])
    before = _case(ctx, first)
    assert before.due_answer_at - before.created_at == timedelta(hours=48)
    desk = SettingsDesk(ctx)
    _, outcome = desk.submit("sla", _form(ctx, "sla", **{"levels/3/answer_hours": "24"}),
                             save=True, actor=(None, "test"))
    assert outcome.saved, outcome.problems
    _, second = _post_at(ctx, 2)
    route(ctx.db, [second])
    after = _case(ctx, second)
    assert after.due_answer_at - after.created_at == timedelta(hours=24)
    assert _case(ctx, first).due_answer_at == before.due_answer_at
    assert current().sla.levels[3].answer_hours == 24  # the web's workflow actions too
    assert "webhook" not in channels_for(ctx)
    _, outcome = desk.submit("channels", _form(ctx, "channels", **{
        "channels/webhook/enabled": "true"}), save=True, actor=(None, "test"))
    assert outcome.saved, outcome.problems
    assert "webhook" in channels_for(ctx)


def test_config_export_writes_the_effective_configuration_that_config_check_accepts(
        ctx: AppContext, tmp_path: Path) -> None:
    desk = SettingsDesk(ctx)
    for name, changes in [("routing", {"overrides": RULE}),
                          ("taxonomy", {"topics/education/keywords": "学校、学区房"})]:
        _, outcome = desk.submit(name, _form(ctx, name, **changes), save=True,
                                 actor=(None, "test"))
        assert outcome.saved, outcome.problems
    out = tmp_path / "export"
    runner = CliRunner()
    env = {"YUQING_DATABASE_URL": ctx.settings.database_url}
    r = runner.invoke(cli, ["--home", str(ctx.settings.home), "config", "export", str(out)],
                      env=env)
    assert r.exit_code == 0, r.output
    assert "已导出" in r.output
    exported = load_settings(out, environ=env)
    effective = ctx.fresh_settings()
    for section in ("routing", "taxonomy", "sla", "channels", "units", "sources",
                    "jurisdictions"):
        assert getattr(exported, section) == getattr(effective, section), section
    assert exported.severity == effective.severity
    assert exported.taxonomy.topic("education").keywords == ["学校", "学区房"]
    r = runner.invoke(cli, ["--home", str(out), "config", "check"], env=env)
    assert r.exit_code == 0 and "配置检查通过" in r.output, r.output


def test_secrets_are_masked_in_the_export(ctx: AppContext, tmp_path: Path) -> None:
    from yuqing.admin_settings import export

    desk = SettingsDesk(ctx)
    _, outcome = desk.submit("channels", _form(ctx, "channels", **{
        "channels/webhook/options/secret": "s3cret-value"}), save=True, actor=(None, "test"))
    assert outcome.saved, outcome.problems
    export(ctx.fresh_settings(), tmp_path / "export")
    text = (tmp_path / "export" / "channels.yaml").read_text("utf-8")
    assert "s3cret-value" not in text and "******" in text


def test_only_admins_reach_the_settings_forms_and_every_post_needs_the_csrf_token(
        login: Callable[[str], Browser], users: dict[str, str], app: Flask) -> None:
    urls = ["/admin/settings", *(f"/admin/settings/{n}" for n in
                                 ("routing", "taxonomy", "severity", "sla", "channels"))]
    admin = login("admin")
    for url in urls:
        assert admin.get(url).status_code == 200, url
    auth = {"Authorization": f"Bearer {users['admin']}"}
    assert app.test_client().get("/api/v1/admin/settings/sla",
                                 headers=auth).get_json()["file"] == "sla"
    for persona in ("monitor", "leader", "street", "dept"):
        b = login(persona)
        for url in urls:
            assert b.get(url).status_code == 403, (persona, url)
        assert b.post("/admin/settings/routing", {"action": "save"}).status_code == 403
        bearer = {"Authorization": f"Bearer {users[persona]}"}
        assert app.test_client().get("/api/v1/admin/settings/sla",
                                     headers=bearer).status_code == 403
    r = admin.client.post("/admin/settings/routing", data={"action": "save"})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    r = admin.client.post("/admin/settings/routing",
                          data={"action": "save", "csrf_token": "forged"})
    assert r.status_code == 400
    assert admin.get("/admin/settings/units").status_code == 404


def test_the_openapi_document_lists_the_settings_path_and_validates(app: Flask) -> None:
    from openapi_spec_validator import validate

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "/api/v1/admin/settings/{name}" in doc["paths"]
    validate(doc)


def test_edited_keywords_and_weights_rebuild_the_analyzer_before_the_next_batch(
        ctx: AppContext) -> None:
    step = ctx.analysis
    first = step.analyzer()
    assert step.analyzer() is first  # built once while nothing changes
    desk = SettingsDesk(ctx)
    _, outcome = desk.submit("taxonomy", _form(ctx, "taxonomy", **{
        "topics/education/keywords": "学校、学区房"}), save=True, actor=(None, "test"))
    assert outcome.saved, outcome.problems
    second = step.analyzer()
    assert second is not first
    assert next(t for t in second.topics if t["key"] == "education")["keywords"] == [
        "学校", "学区房"]
    _, outcome = desk.submit("severity", _form(ctx, "severity", **{
        "severity/thresholds/4": "25"}), save=True, actor=(None, "test"))
    assert outcome.saved, outcome.problems
    assert step.analyzer().scorer.cfg["thresholds"][4] == 25

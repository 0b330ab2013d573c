"""`yuqing report response`: the console's figures on the command line, under the same access rule."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from routing.policy import Policy
from tests.routing.report_history import NOW, build_history
from webui.accounts import create_user, issue_token
from yuqing.cli import cli
from yuqing.commands.report import report_group
from yuqing.context import AppContext
from yuqing.web import build_web

RANGE = ["--from", "2026-09-28", "--to", "2026-10-11"]


@pytest.fixture
def history(ctx: AppContext) -> dict[str, int]:
    ctx.clock = lambda: NOW
    return build_history(ctx.db, Policy.from_settings(ctx.settings))


def run(ctx: AppContext, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(report_group, ["response", *args], obj=ctx)
    return r.exit_code, r.output


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_json_last_line_matches_the_api(ctx: AppContext, history: dict[str, int]) -> None:
    code, out = run(ctx, *RANGE, "--json")
    assert code == 0, out
    rep = last_json(out)
    assert rep["total"]["assigned"] == 7 and rep["flagged"] == ["jn-dongshan", "jn-edu",
                                                                "jn-moling"]
    assert "按时签收率" in out and "⚑ 秣陵街道（主办）" in out
    create_user(ctx.db, "boss", "long-enough-1", "leader")
    client = build_web(ctx, TESTING=True).test_client()
    api = client.get("/api/v1/reports/response?from=2026-09-28&to=2026-10-11",
                     headers={"Authorization": f"Bearer {issue_token(ctx.db, 'boss')}"}
                     ).get_json()
    assert api["units"] == rep["units"] and api["total"] == rep["total"]


def test_default_period_is_last_week_from_the_app_clock(ctx: AppContext,
                                                        history: dict[str, int]) -> None:
    code, out = run(ctx, "--json")
    assert code == 0, out
    assert last_json(out)["period"]["from"] == "2026-10-05"  # NOW is Monday 2026-10-12
    code, out = run(ctx, "--preset", "this_month", "--json")
    assert last_json(out)["period"] == {"from": "2026-10-01", "to": "2026-10-12",
                                        "preset": "this_month",
                                        "label": "本月（2026-10-01 至 2026-10-12）"}


def test_unit_and_user_apply_the_same_access_rule(ctx: AppContext,
                                                  history: dict[str, int]) -> None:
    create_user(ctx.db, "street", "long-enough-1", "unit", unit_code="jn-dongshan")
    code, out = run(ctx, *RANGE, "--unit", "jn-moling", "--json")
    assert code == 0 and {r["unit"] for r in last_json(out)["units"]} == {"jn-moling"}
    code, out = run(ctx, *RANGE, "--user", "street", "--json")
    assert code == 0 and {r["unit"] for r in last_json(out)["units"]} == {"jn-dongshan"}
    code, out = run(ctx, *RANGE, "--user", "street", "--unit", "jn-moling")
    assert code != 0 and "无权查看单位「jn-moling」" in out


def test_bad_input_gets_a_chinese_error(ctx: AppContext, history: dict[str, int]) -> None:
    code, out = run(ctx, "--from", "2026-10-11", "--to", "2026-09-28")
    assert code != 0 and "结束日期不能早于开始日期" in out
    code, out = run(ctx, *RANGE, "--unit", "nope")
    assert code != 0 and "未知的单位「nope」" in out


def test_report_is_a_yuqing_command() -> None:
    with click.Context(cli) as c:
        assert cli.get_command(c, "report") is report_group

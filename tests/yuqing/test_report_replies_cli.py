"""`yuqing report replies`: a real run over imported and stored records."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from reply_cases import NOW, store_posts

from store import Database
from yuqing.commands.report import report_group
from yuqing.context import AppContext

ROOT = Path(__file__).resolve().parents[2]


def test_an_imported_board_export_gives_the_reply_report_as_json(
        tmp_path: Path, database_url: str) -> None:
    board = tmp_path / "留言板.csv"
    board.write_text(
        "留言编号,留言用户,留言主题,留言时间,留言详情,答复意见,答复时间,点赞数,反对数\n"
        "L1,甲,垃圾清运,2025-09-29 09:00,垃圾堆积,已清运,2025-09-29 15:00,1,0\n"
        "L2,乙,资料费,2025-09-30 16:00,收资料费,已退费,2025-10-09 10:00,0,0\n"
        "L3,丙,路灯,2025-10-30 10:00,路灯不亮,,,0,0\n", encoding="utf-8")
    home = tmp_path / "instance"
    env = {"PATH": "/usr/bin:/bin", "YUQING_DATABASE_URL": database_url, "HOME": str(tmp_path)}

    def yq(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), *args],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)

    imported = yq("import", str(board), "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout.splitlines()[-1])["new"] == 3
    run = yq("report", "replies", "--from", "2025-09-01", "--to", "2025-10-31",
             "--days", "1,10", "--json")
    assert run.returncode == 0, run.stderr
    assert "答复时效报告：2025-09-01 至 2025-10-31" in run.stdout
    data = json.loads(run.stdout.strip().splitlines()[-1])
    total = data["total"]
    assert (total["messages"], total["replied"]) == (3, 2)
    assert total["reply_rate"] == pytest.approx(2 / 3)
    assert (total["median_hours"], total["p90_hours"]) == (108.0, 189.6)  # of [6, 210]
    assert [m["key"] for m in data["by_month"]] == ["2025-09", "2025-10"]
    assert data["by_unit"][0]["label"] == "（未注明单位）"  # board exports name no unit


def invoke(ctx: AppContext, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(report_group, ["replies", *args], obj=ctx)
    return result.exit_code, result.output


def test_the_default_period_is_last_week_of_the_contexts_clock(ctx: AppContext,
                                                               db: Database) -> None:
    store_posts(db)
    ctx.clock = lambda: datetime(2025, 10, 22, 3, 0, tzinfo=NOW.tzinfo)  # Wed: last week 13–19
    code, out = invoke(ctx, "--json")
    assert code == 0, out
    data = json.loads(out.strip().splitlines()[-1])
    assert data["period"] == {"from": "2025-10-13", "to": "2025-10-19", "preset": "last_week",
                              "label": "上周（2025-10-13 至 2025-10-19）"}
    assert data["total"]["messages"] == 1  # F (10-15); G (10-10) falls outside
    code, out = invoke(ctx, "--preset", "本月", "--json")
    data = json.loads(out.strip().splitlines()[-1])
    assert data["period"]["from"] == "2025-10-01" and data["total"]["messages"] == 2  # D, F (to 10-22)
    assert data["total"]["invalid"] == 1 and data["total"]["undated"] == 1
    assert "数据错误" in out


def test_a_unit_and_a_source_narrow_the_report(ctx: AppContext, db: Database) -> None:
    store_posts(db)
    ctx.clock = lambda: NOW
    code, out = invoke(ctx, "--from", "2025-09-01", "--to", "2025-10-31", "--unit", "jn-edu",
                       "--json")
    assert code == 0, out
    data = json.loads(out.strip().splitlines()[-1])
    assert [u["label"] for u in data["by_unit"]] == ["区教育局"]
    assert data["total"]["messages"] == 3
    code, out = invoke(ctx, "--from", "2025-09-01", "--to", "2025-10-31",
                       "--source", "test:board", "--json")
    assert json.loads(out.strip().splitlines()[-1])["total"]["messages"] == 3  # A, B, D (G is invalid)


def test_user_applies_that_users_access_rule(ctx: AppContext, db: Database) -> None:
    from webui.accounts import create_user

    store_posts(db)
    ctx.clock = lambda: NOW
    create_user(db, "dongshan", "correct-horse-9", "unit", unit_code="jn-dongshan")
    code, out = invoke(ctx, "--from", "2025-09-01", "--to", "2025-10-31", "--user", "dongshan",
                       "--json")
    assert code == 0, out
    data = json.loads(out.strip().splitlines()[-1])
    assert [u["label"] for u in data["by_unit"]] == ["东山街道"]
    code, out = invoke(ctx, "--from", "2025-09-01", "--to", "2025-10-31", "--user", "dongshan",
                       "--unit", "jn-edu")
    # worded for the reply report, not the response report's 考核数据
    assert code != 0 and "用户 dongshan 无权查看单位「jn-edu」的答复时效数据" in out, out
    assert "考核" not in out


def test_bad_input_gets_a_chinese_usage_error(ctx: AppContext, db: Database) -> None:
    ctx.clock = lambda: NOW
    for args, message in ((["--from", "2025-13-01"], "开始日期格式"),
                          (["--preset", "someday"], "未知的时间段"),
                          (["--days", "x"], "逗号分隔"),
                          (["--days", "0"], "答复天数"),
                          (["--unit", "nobody"], "未知的单位")):
        code, out = invoke(ctx, *args)
        assert code == 2 and message in out, (args, out)

"""`yuqing search`: the same hits as the console, the JSON contract, and Chinese errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tests.search_posts import seed_search_posts
from yuqing.commands.search import search_command
from yuqing.context import AppContext

ROOT = Path(__file__).resolve().parents[2]


def _run(ctx: AppContext, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(search_command, list(args), obj=ctx)
    return result.exit_code, result.output


def test_the_last_line_is_the_json_contract_with_the_exact_total(ctx: AppContext) -> None:
    ids = seed_search_posts(ctx)
    code, out = _run(ctx, "污水 | 恶意 -外溢", "--json")
    assert code == 0, out
    data = json.loads(out.strip().splitlines()[-1])
    assert data["total"] == 2
    assert [i["post_id"] for i in data["items"]] == [ids["xss"], ids["formula"]]  # newest first
    assert set(data["items"][0]) == {"post_id", "title", "snippet", "published_at", "source",
                                     "url"}
    assert data["items"][0]["source"] == "search:weibo"
    assert data["items"][0]["published_at"] == "2025-06-09T21:00:00+00:00"
    assert "共 2 条" in out


def test_limit_source_and_dates_narrow_it(ctx: AppContext) -> None:
    ids = seed_search_posts(ctx)
    code, out = _run(ctx, "污水", "--limit", "1", "--json")
    data = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and data["total"] == 3 and len(data["items"]) == 1
    code, out = _run(ctx, "污水", "--source", "search:board", "--json")
    assert [i["post_id"] for i in json.loads(out.strip().splitlines()[-1])["items"]] \
        == [ids["formula"]]
    code, out = _run(ctx, "食堂", "--from", "2025-06-09", "--to", "2025-06-09", "--json")
    assert [i["post_id"] for i in json.loads(out.strip().splitlines()[-1])["items"]] \
        == [ids["canteen"]]


def test_a_malformed_query_exits_with_a_chinese_message(ctx: AppContext) -> None:
    seed_search_posts(ctx)
    for args, says in [(('"食堂',), "引号不成对"), (("食堂 -",), "减号后缺少"),
                       (("--", "-食堂"), "至少需要一个"), (("食堂", "--from", "2025-02-30"), "开始日期")]:
        code, out = _run(ctx, *args)
        assert code == 1, out
        assert says in out and "Traceback" not in out
    # a query starting with "-" follows "--", as for any command
    code, out = _run(ctx, "--json", "--", "-外溢 污水")
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["total"] == 2


def test_it_runs_as_a_real_command(tmp_path: Path, database_url: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "YUQING_DATABASE_URL": database_url, "HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(tmp_path / "i"),
                          "search", "积水", "--json"], capture_output=True, text=True, cwd=ROOT,
                         env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"total": 0, "items": []}


def test_reindex_all_rebuilds_the_index_from_the_stored_posts(ctx: AppContext) -> None:
    from yuqing.cli import reindex

    seed_search_posts(ctx)
    ctx.index.clear()  # an index lost or from an older format
    assert _run(ctx, "污水", "--json")[1].strip().splitlines()[-1].startswith('{"total": 0')
    result = CliRunner().invoke(reindex, ["--all"], obj=ctx)
    assert result.exit_code == 0 and "已补建索引 6 条" in result.output
    assert json.loads(_run(ctx, "污水", "--json")[1].strip().splitlines()[-1])["total"] == 3

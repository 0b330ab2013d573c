"""`yuqing route`: one documented line per input line, in order, bad lines included.

The analyzer here answers from a table of Analysis objects keyed by post id (the nlp contract is
plain data classes); routing, the SLA clock, reading and writing are the real ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from nlp.types import (
    Analysis,
    PlaceMatch,
    PostInput,
    SentimentResult,
    SeverityResult,
    TopicResult,
)
from yuqing.commands.route import COMMANDS, OUTPUT_KEYS, route_command, run_route
from yuqing.settings import Settings

DONGSHAN = PlaceMatch("东山街道", "320115001", "township", 0.9, "东山街道")
TANGSHAN = PlaceMatch("汤山街道", "320115010", "township", 0.9, "汤山")
HUSHU = PlaceMatch("湖熟街道", "320115012", "township", 0.9, "湖熟")
YUHUATAI = PlaceMatch("雨花台区", "320114", "district", 0.9, "雨花台区")


def analysis(post_id: str, topic: str | None, level: int | None,
             places: list[PlaceMatch], text: str = "") -> Analysis:
    return Analysis(post_id=post_id, normalized_text=text,
                    topic=TopicResult(topic, 0.8), sentiment=SentimentResult("negative", -0.6),
                    severity=SeverityResult(level, 0.0), places=places)


class TableAnalyzer:
    """Analyses prepared per post id; ids in ``broken`` fail like a crashing model would."""

    def __init__(self, table: dict[str, Analysis], broken: frozenset[str] = frozenset()):
        self.table, self.broken = table, broken
        self.calls: list[list[str]] = []

    def analyze_batch(self, posts: list[PostInput]) -> list[Analysis]:
        self.calls.append([p.id for p in posts])
        if any(p.id in self.broken for p in posts):
            raise RuntimeError("模型文件损坏")
        return [self.table[p.id] for p in posts]


TABLE = {
    "p1": analysis("p1", "environment", 3, [TANGSHAN, HUSHU], "汤山和湖熟交界处工厂排污"),
    "p2": analysis("p2", "work_safety", 2, [YUHUATAI], "雨花台区工地塌方"),
    "p3": analysis("p3", "housing", None, [DONGSHAN], "东山街道物业"),
    "p4": analysis("p4", "education", 4, [], "某地学校"),
    "p5": analysis("p5", "housing", 3, [DONGSHAN], "东山街道"),
}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def post(pid: str, text: str = "正文", **extra: object) -> str:
    return json.dumps({"id": pid, "text": text, **extra}, ensure_ascii=False)


@pytest.fixture
def posts_file(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "posts.jsonl", [
        post("p1", "汤山和湖熟交界处工厂排污", published_at="2026-10-01T20:00:00+08:00"),
        "{这不是 JSON",
        post("p2", "雨花台区工地塌方"),
        "",
        json.dumps({"id": "p-empty", "text": "  "}),
        post("p3", "东山街道物业"),
        "[1, 2]",
        post("p4", "某地学校"),
        json.dumps({"id": "p-badcount", "text": "x", "reposts": "很多"}, ensure_ascii=False),
    ])


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_it_writes_one_line_per_input_in_order_with_the_documented_keys(
        settings: Settings, posts_file: Path, tmp_path: Path):
    out = tmp_path / "decisions.jsonl"
    summary = run_route(settings, posts_file, out, TableAnalyzer(TABLE))
    rows = read_lines(out)
    assert [r.get("id") for r in rows] == ["p1", None, "p2", "p-empty", "p3", None, "p4",
                                          "p-badcount"]
    good = [r for r in rows if "error" not in r]
    assert all(tuple(r) == OUTPUT_KEYS for r in good)
    assert all(set(r) == {"id", "error"} for r in rows if "error" in r)
    assert summary.posts == 8 and summary.errors == 4
    assert summary.to_dict()["rules"] == {"R2-多属地": 1, "R4-属地外通报": 1, "R1-单一属地": 1,
                                          "R9-待研判": 1}

    p1, p2, p3, p4 = good
    assert p1["alert"] is True and p1["severity"] == 3 and p1["outside"] is False
    assert p1["lead"] == {"name": "南京市江宁生态环境局", "code": "jn-eco"}
    assert [c["code"] for c in p1["co"]] == ["jn-tangshan", "jn-hushu"]
    assert p1["explanation"].startswith("【R2-多属地】")
    # deadlines run from published_at when --start is not given: III → sign 4 h, answer 48 h
    assert p1["deadlines"] == {"sign": "2026-10-02T00:00:00+08:00", "first_response": None,
                               "press_conference": None, "answer": "2026-10-03T20:00:00+08:00"}
    assert p2["outside"] is True and p2["lead"] is None and p2["co"] == []
    assert set(p2["deadlines"]) == {"sign", "first_response", "press_conference", "answer"}
    assert all(v is None for v in p2["deadlines"].values())
    assert p3["alert"] is False and p3["severity"] is None
    assert p4["lead"] is None and "R9-待研判" in p4["explanation"]


def test_bad_lines_say_what_is_wrong_in_chinese(settings: Settings, posts_file: Path,
                                                tmp_path: Path):
    out = tmp_path / "decisions.jsonl"
    run_route(settings, posts_file, out, TableAnalyzer(TABLE))
    errors = [r["error"] for r in read_lines(out) if "error" in r]
    assert errors[0].startswith("第 2 行不是合法的 JSON")
    assert "第 5 行" in errors[1] and "缺少 text 和 title" in errors[1]
    assert "第 7 行" in errors[2] and "JSON 对象" in errors[2]
    assert "转发数应为数字" in errors[3]


def test_a_post_the_analyzer_chokes_on_costs_only_its_own_line(settings: Settings,
                                                                tmp_path: Path):
    src = write_lines(tmp_path / "in.jsonl", [post("p1"), post("p5"), post("p4")])
    out = tmp_path / "out.jsonl"
    analyzer = TableAnalyzer(TABLE, broken=frozenset({"p5"}))
    summary = run_route(settings, src, out, analyzer)
    rows = read_lines(out)
    assert [r["id"] for r in rows] == ["p1", "p5", "p4"]
    assert "error" not in rows[0] and "error" not in rows[2]
    assert rows[1]["error"].startswith("分析失败：RuntimeError")
    assert analyzer.calls[0] == ["p1", "p5", "p4"] and summary.errors == 1


def test_start_option_sets_where_deadlines_run_from(settings: Settings, tmp_path: Path):
    src = write_lines(tmp_path / "in.jsonl", [post("p5", published_at="2026-01-01T00:00")])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(route_command, ["--input", str(src), "--output", str(out),
                                                "--start", "2026-10-09T16:00", "--json"],
                                obj=SimpleNamespace(settings=settings,
                                                    analyzer=TableAnalyzer(TABLE)))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["posts"] == 1 and summary["alerts"] == 1
    row = read_lines(out)[0]
    assert row["deadlines"]["sign"] == "2026-10-09T20:00:00+08:00"
    assert row["lead"]["code"] == "jn-dongshan"


def test_cli_refuses_a_bad_start_and_a_missing_file(settings: Settings, tmp_path: Path):
    obj = SimpleNamespace(settings=settings, analyzer=TableAnalyzer(TABLE))
    src = write_lines(tmp_path / "in.jsonl", [post("p5")])
    bad = CliRunner().invoke(route_command, ["--input", str(src), "--output",
                                             str(tmp_path / "o.jsonl"), "--start", "明天"], obj=obj)
    assert bad.exit_code == 2 and "无法识别的时间" in bad.output
    missing = CliRunner().invoke(route_command, ["--input", str(tmp_path / "nope.jsonl"),
                                                 "--output", str(tmp_path / "o.jsonl")], obj=obj)
    assert missing.exit_code == 1 and "找不到输入文件" in missing.output


def test_the_module_exports_its_commands():
    assert [c.name for c in COMMANDS] == ["route"]

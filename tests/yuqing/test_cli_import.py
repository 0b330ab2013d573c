"""`yuqing import` and `yuqing stats` as a user runs them: a real process, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[2]


def yq(home: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "YUQING_DATABASE_URL": database_url, "HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


def last_json(proc: subprocess.CompletedProcess[str]) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_gbk_csv_imports_once_and_reports_bad_rows_by_number(
        tmp_path: Path, database_url: str) -> None:
    csv_file = tmp_path / "12345.csv"
    csv_file.write_bytes(("工单编号,来电时间,诉求内容,所属区域,点赞\n"
                          "G1,2024-05-01 09:30,东山街道某小区夜间施工噪音扰民,东山街道,3\n"
                          "G2,2024年5月2日 10:00,秣陵街道路面塌陷,秣陵街道,\n"
                          "G3,不是时间,内容,x,1\n"
                          "G4,2024-05-03,,x,1\n").encode("gbk"))
    home = tmp_path / "instance"
    first = last_json(yq(home, database_url, "import", str(csv_file), "--json"))
    assert first["new"] == 2 and first["rejected"] == 2
    assert [r["position"] for r in first["rejections"]] == [4, 5]
    second = last_json(yq(home, database_url, "import", str(csv_file), "--json"))
    assert (second["new"], second["duplicate"], second["rejected"]) == (0, 2, 2)
    stats = last_json(yq(home, database_url, "stats", "--json"))
    assert stats == {"posts": 2, "events": 0, "cases": {"total": 0, "by_state": {}}}


def test_xlsx_and_jsonl_with_a_column_mapping(tmp_path: Path, database_url: str) -> None:
    book = Workbook()
    ws = book.active
    ws.append(["信件号", "反映事项", "日期"])
    ws.append(["X1", "湖熟街道农田被倒渣土", "2024-06-01"])
    ws.append([None, None, None])  # blank rows are skipped, not rejected
    ws.append(["X2", "横溪街道路灯不亮", "2024-06-02 08:00"])
    xlsx = tmp_path / "letters.xlsx"
    book.save(xlsx)
    home = tmp_path / "instance"
    got = last_json(yq(home, database_url, "import", str(xlsx), "--map", "external_id=信件号",
                       "--map", "text=反映事项", "--map", "published_at=日期", "--json"))
    assert (got["new"], got["rejected"]) == (2, 0)

    jsonl = tmp_path / "weibo.jsonl"
    jsonl.write_text('{"mid": "1", "content": "谷里街道发生火情", "reposts": "1.2万"}\n'
                     "not json\n"
                     '["a list"]\n'
                     '{"mid": "2", "content": "淳化街道积水"}\n', encoding="utf-8")
    got = last_json(yq(home, database_url, "import", str(jsonl), "--json"))
    assert (got["new"], got["rejected"]) == (2, 2)
    assert [r["position"] for r in got["rejections"]] == [2, 3]


def test_unreadable_files_get_a_clear_error(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "instance"
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    proc = yq(home, database_url, "import", str(bad))
    assert proc.returncode == 1 and "找不到正文列" in proc.stderr
    proc = yq(home, database_url, "import", str(tmp_path / "missing.csv"))
    assert proc.returncode == 1 and "文件不存在" in proc.stderr
    proc = yq(home, database_url, "import", str(bad), "--map", "nonsense")
    assert proc.returncode == 2 and "字段=列名" in proc.stderr


ROWS = 2_500  # crosses two batch boundaries (batch_size 1000); size lives in bench/bench_import.py


def test_importing_the_same_rows_twice_across_batches_leaves_each_post_once(
        tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(ROWS):
            fh.write(json.dumps({"id": f"r{i}", "text": f"第{i}号来电：江宁区某小区反映问题{i % 97}",
                                 "published_at": "2024-05-01 10:00"}, ensure_ascii=False) + "\n")
    home = tmp_path / "instance"
    first = last_json(yq(home, database_url, "import", str(path), "--json"))
    second = last_json(yq(home, database_url, "import", str(path), "--json"))
    assert (first["new"], first["duplicate"]) == (ROWS, 0)
    assert (second["new"], second["duplicate"], second["updated"]) == (0, ROWS, 0)
    assert last_json(yq(home, database_url, "stats", "--json"))["posts"] == ROWS


def test_bad_cells_and_a_source_column_never_stop_the_command(
        tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "vendor.jsonl"
    rows = [{"id": "v1", "content": "东山街道积水", "source": "新浪微博"},
            {"id": "v2", "content": "时间坏了", "source": "抖音", "published_at": "0001-01-01"},
            {"id": "v3", "content": "链接坏了", "url": "http://[abc"},
            {"id": "v4", "content": "点赞无穷", "likes": float("inf")},
            {"id": "v5", "content": "秣陵街道停电", "source": "今日头条", "likes": 10**20}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    home = tmp_path / "instance"
    proc = yq(home, database_url, "import", str(path), "--source", "import:vendor", "--json")
    got = last_json(proc)
    assert (got["new"], got["rejected"]) == (2, 3)
    assert [r["position"] for r in got["rejections"]] == [2, 3, 4]
    assert "第 2 行被拒绝：发布时间" in proc.stderr and "Traceback" not in proc.stderr

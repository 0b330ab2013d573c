"""One bad cell never aborts an import: each bad row is rejected by number, the others land."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select

from crawlers.importers import MAX_CELL_CHARS, read_file
from store import Post, Source
from yuqing.context import AppContext
from yuqing.ingest import Ingestor

GOOD = {"text": "东山街道路灯不亮", "published_at": "2024-05-01 10:00"}

# (field, value, words expected in the reason) — each raised a traceback before
BAD_CELLS = [
    ("published_at", "0001-01-01", "时间"),
    ("published_at", "9999-12-31T23:59:59-12:00", "时间"),
    ("published_at", "1900-01-01", "1970"),
    ("published_at", 10**20, "时间"),
    ("published_at", float("inf"), "时间"),
    ("reply_at", "0001-01-01 00:00", "回复时间"),
    ("url", "http://[abc", "链接格式不正确"),
    ("likes", float("inf"), "点赞数"),
    ("likes", float("nan"), "点赞数"),
    ("reposts", "１" * 400, "转发数"),
    ("comments", "9" * 5000, "评论数"),
]


def _ingest_jsonl(ctx: AppContext, lines: list[str], tmp_path: Path,
                  source: str | None = "import:bad-cells") -> tuple[object, list[Post]]:
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = Ingestor(ctx.db, None).ingest(read_file(path), source=source)
    with ctx.db.session() as s:
        posts = list(s.scalars(select(Post).order_by(Post.id)))
        s.expunge_all()
    return report, posts


def test_each_bad_cell_is_one_rejected_row_and_the_good_rows_land(
        ctx: AppContext, tmp_path: Path) -> None:
    lines: list[str] = []
    for i, (field, value, _) in enumerate(BAD_CELLS):
        lines.append(json.dumps({**GOOD, "id": f"good{i}"}, ensure_ascii=False))
        lines.append(json.dumps({**GOOD, "id": f"bad{i}", field: value}, ensure_ascii=False))
    report, posts = _ingest_jsonl(ctx, lines, tmp_path)
    reasons = {r.position: r.reason for r in report.rejected}
    assert sorted(reasons) == [2 * i + 2 for i in range(len(BAD_CELLS))]
    for i, (_, _, words) in enumerate(BAD_CELLS):
        assert words in reasons[2 * i + 2], (BAD_CELLS[i], reasons[2 * i + 2])
    assert sorted(p.external_id for p in posts) == sorted(f"good{i}" for i in range(len(BAD_CELLS)))


def test_unreadable_json_lines_are_rejected_by_number(ctx: AppContext, tmp_path: Path) -> None:
    lines = [json.dumps({**GOOD, "id": "a"}),
             '{"id": "b", "text": "数字太长", "likes": ' + "7" * 4400 + "}",
             '{"id": "c", "text": "x", "likes": 1e999}',  # Infinity by another spelling
             "[" * 100_000,
             json.dumps({**GOOD, "id": "d"})]
    report, posts = _ingest_jsonl(ctx, lines, tmp_path)
    assert [r.position for r in report.rejected] == [2, 3, 4]
    assert "JSON" in report.rejected[0].reason and "点赞数" in report.rejected[1].reason
    assert [p.external_id for p in posts] == ["a", "d"]


def test_lone_surrogates_and_nul_are_replaced_not_fatal(ctx: AppContext, tmp_path: Path) -> None:
    lines = ['{"id": "s1", "text": "坏字符\\udcff在此", "作者": "\\ud800名", "备注": "a\\u0000b\\udfff"}',
             json.dumps({**GOOD, "id": "s2"})]
    report, posts = _ingest_jsonl(ctx, lines, tmp_path)
    assert report.rejected == [] and report.new == 2
    assert posts[0].text == "坏字符\ufffd在此" and posts[0].author == "\ufffd名"
    assert posts[0].extra == {"备注": "ab\ufffd"}


def test_counts_beyond_reason_are_clamped_and_full_width_digits_read(
        ctx: AppContext, tmp_path: Path) -> None:
    lines = [json.dumps({**GOOD, "id": "c1", "likes": 10**20, "reposts": "１．２万",
                         "comments": "1" + "0" * 30}, ensure_ascii=False)]
    report, posts = _ingest_jsonl(ctx, lines, tmp_path)
    assert report.new == 1
    assert (posts[0].likes, posts[0].reposts, posts[0].comments) == (10**12, 12000, 10**12)


def test_a_free_text_source_column_is_kept_as_the_site_under_the_import_source(
        ctx: AppContext, tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"w{i}", "content": f"第{i}条微博", "source": site}, ensure_ascii=False)
             for i, site in enumerate(["新浪微博", "jn-news", "抖音"])]
    report, posts = _ingest_jsonl(ctx, lines, tmp_path)
    assert (report.new, report.rejected) == (3, [])
    assert [p.extra["site"] for p in posts] == ["新浪微博", "jn-news", "抖音"]
    with ctx.db.session() as s:
        keys = {s.get(Source, p.source_id).key for p in posts}  # type: ignore[union-attr]
    assert keys == {"import:bad-cells"}


def test_a_chinese_source_column_in_a_csv_keeps_the_command_line_source(
        ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("编号,内容,来源\nq1,谷里街道积水,新浪微博\nq2,淳化街道停电,今日头条\n",
                    encoding="utf-8")
    with ctx.db.session() as s:
        s.add(Source(key="vendor-x", name="某舆情厂商导出", kind="import", source_kind="import"))
    report = Ingestor(ctx.db, None).ingest(read_file(path), source="vendor-x")
    assert (report.new, report.rejected) == (2, [])
    with ctx.db.session() as s:
        rows = s.execute(select(Source.key, Post.extra).join(Post.source).order_by(Post.id)).all()
    assert [(k, e["site"]) for k, e in rows] == [("vendor-x", "新浪微博"), ("vendor-x", "今日头条")]


def test_csv_cells_beyond_the_csv_default_land_cut_and_giant_ones_are_rejected(
        ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("编号,内容\n"
                    f"L1,{'长' * 140_000}\n"
                    f"L2,{'巨' * (MAX_CELL_CHARS + 10)}\n"
                    "L3,之后的行照常导入\n", encoding="utf-8")
    report = Ingestor(ctx.db, None).ingest(read_file(path), source="import:long")
    assert [(r.position, r.reason) for r in report.rejected] == [
        (3, f"单元格超过 {MAX_CELL_CHARS} 个字符")]
    with ctx.db.session() as s:
        got = s.execute(select(Post.external_id, Post.truncated).order_by(Post.id)).all()
    assert [tuple(r) for r in got] == [("L1", True), ("L3", False)]


def test_an_xlsx_with_out_of_range_dates_keeps_its_good_rows(
        ctx: AppContext, tmp_path: Path) -> None:
    from datetime import datetime

    book = Workbook()
    ws = book.active
    ws.append(["编号", "内容", "发布时间", "点赞"])
    ws.append(["x1", "好的一行", datetime(2024, 5, 1, 9, 0), 3])
    ws.append(["x2", "太早", datetime(1900, 1, 2), 1])
    ws.append(["x3", "太晚", datetime(9999, 12, 31, 23, 59), 1])
    ws.append(["x4", "数字巨大", "2024-05-01", 1e300])
    path = tmp_path / "dates.xlsx"
    book.save(path)
    report = Ingestor(ctx.db, None).ingest(read_file(path), source="import:dates")
    assert [r.position for r in report.rejected] == [3, 4]
    with ctx.db.session() as s:
        got = s.execute(select(Post.external_id, Post.likes).order_by(Post.id)).all()
    assert [tuple(r) for r in got] == [("x1", 3), ("x4", 10**12)]


class _LeakyValidation(Ingestor):
    """Lets one out-of-range count through, as a future validation gap would."""

    def _validate(self, raw, default_source):  # type: ignore[no-untyped-def]
        row = super()._validate(raw, default_source)
        if row["external_id"] == "leak":
            row["likes"] = 10**20  # beyond SQLite INTEGER and PostgreSQL bigint
        return row


def test_a_row_the_database_refuses_costs_only_that_row(ctx: AppContext, tmp_path: Path) -> None:
    lines = [json.dumps({**GOOD, "id": i}) for i in ("a", "leak", "b")]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = _LeakyValidation(ctx.db, None).ingest(read_file(path), source="import:leak")
    assert report.new == 2
    assert [r.position for r in report.rejected] == [2]
    assert "数据库拒绝写入" in report.rejected[0].reason
    with ctx.db.session() as s:
        assert sorted(s.scalars(select(Post.external_id))) == ["a", "b"]

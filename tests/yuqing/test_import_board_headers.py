"""Real 留言板 exports import as they come: their headers need no --map, in every format."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from crawlers.importers import read_file, resolve_columns
from store import Database, Post
from yuqing.context import AppContext
from yuqing.ingest import Ingestor

HEADERS = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间",
           "点赞数", "反对数"]
ROWS = [
    ["LY001", "网友甲", "东山街道某小区垃圾清运不及时", "2025-09-29 09:00",
     "小区门口垃圾堆积三天无人清运。", "已安排环卫所当日清运。", "2025-09-29 15:00", "12", "1"],
    ["LY002", "网友乙", "学校收取资料费", "2025年9月30日 16:00", "孩子学校要求交资料费。",
     "", "", "3", "0"],
]


def write_csv(path: Path, encoding: str) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADERS)
    writer.writerows(ROWS)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path) -> Path:
    book = Workbook()
    ws = book.active
    ws.append(HEADERS)
    for row in ROWS:  # spreadsheets carry real dates and numbers in these columns
        ws.append([*row[:3], datetime(2025, 9, 29, 9) if row[0] == "LY001" else row[3],
                   *row[4:7], int(row[7]), int(row[8])])
    book.save(path)
    return path


def write_jsonl(path: Path) -> Path:
    path.write_text("".join(json.dumps(dict(zip(HEADERS, row, strict=True)),
                                       ensure_ascii=False) + "\n" for row in ROWS),
                    encoding="utf-8")
    return path


def test_the_board_headers_map_to_post_fields_without_a_mapping() -> None:
    columns = resolve_columns(HEADERS, None)
    assert columns == {"留言编号": "external_id", "留言用户": "author", "留言主题": "title",
                       "留言时间": "published_at", "留言详情": "text",
                       "答复意见": "reply_text", "答复时间": "reply_at", "点赞数": "likes"}
    # the 12345 headers keep working alongside
    assert resolve_columns(["工单编号", "来电时间", "诉求内容", "承办单位", "办结时间"], None) == {
        "工单编号": "external_id", "来电时间": "published_at", "诉求内容": "text",
        "承办单位": "reply_unit", "办结时间": "reply_at"}


@pytest.mark.parametrize("kind", ["utf-8", "gbk", "xlsx", "jsonl"])
def test_a_board_export_imports_with_reply_fields_in_every_format(
        kind: str, tmp_path: Path, ctx: AppContext, db: Database) -> None:
    if kind in ("utf-8", "gbk"):
        path = write_csv(tmp_path / "board.csv", kind)
    elif kind == "xlsx":
        path = write_xlsx(tmp_path / "board.xlsx")
    else:
        path = write_jsonl(tmp_path / "board.jsonl")
    report = Ingestor(db, None, timezone="Asia/Shanghai").ingest(
        read_file(path), source="import:board")
    assert (report.new, report.rejected) == (2, []), report.rejected
    with db.session() as s:
        posts = {p.external_id: p for p in s.scalars(select(Post))}
    first, second = posts["LY001"], posts["LY002"]
    assert first.title == "东山街道某小区垃圾清运不及时"
    assert first.text == "小区门口垃圾堆积三天无人清运。"
    assert first.author == "网友甲" and first.likes == 12
    assert first.reply_text == "已安排环卫所当日清运。"
    assert first.published_at == datetime(2025, 9, 29, 1, 0, tzinfo=UTC)
    assert first.reply_at == datetime(2025, 9, 29, 7, 0, tzinfo=UTC)
    assert str(first.extra["反对数"]) == "1"
    assert second.reply_text == "" and second.reply_at is None
    assert second.published_at == datetime(2025, 9, 30, 8, 0, tzinfo=UTC)

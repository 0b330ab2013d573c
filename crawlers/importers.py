"""Read CSV, XLSX and JSONL exports (12345 records, other vendors' exports) into item dicts.

Rows come out as (row number, item dict) or (row number, RowError): a bad row is reported with
its number and reason and the rest of the file goes on. Columns are matched to PostItem fields
by an explicit mapping, else by common Chinese and English header names; other columns are
kept under ``extra``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from crawlers.items import PostItem

FIELDS = [f for f in PostItem.__dataclass_fields__ if f not in ("extra", "truncated")]

# Header names seen in exports, per field (compared after stripping and lower-casing).
ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "编号", "工单号", "工单编号", "信件编号", "留言编号", "序号id", "mid"),
    "title": ("标题", "主题", "留言标题", "留言主题", "信件标题", "subject"),
    "text": ("内容", "正文", "诉求内容", "留言内容", "留言详情", "来电内容", "信件内容", "body",
             "content"),
    "url": ("链接", "网址", "原文链接", "link", "href"),
    "author": ("作者", "发布者", "用户", "昵称", "来电人", "留言人", "留言用户", "user",
               "nickname"),
    "author_followers": ("粉丝数", "粉丝", "followers"),
    "published_at": ("发布时间", "时间", "来电时间", "留言时间", "受理时间", "日期",
                     "time", "date", "created_at", "pubdate"),
    "reposts": ("转发", "转发数", "reposts", "shares"),
    "comments": ("评论", "评论数", "comments"),
    "likes": ("点赞", "点赞数", "likes"),
    "place": ("地点", "区域", "所属区域", "属地", "地址", "事发地点", "location", "region"),
    "source_kind": ("类型", "渠道", "来源类型"),
    # 留言板 exports say 答复意见; 反对数 and other unknown columns stay under ``extra``
    "reply_text": ("回复", "回复内容", "回复意见", "办理结果", "答复内容", "答复意见", "reply"),
    "reply_at": ("回复时间", "办结时间", "答复时间", "reply_time"),
    "reply_unit": ("回复单位", "承办单位", "办理单位", "答复单位", "答复机构", "回复机构"),
    "source": ("source", "信息源"),
}

MAX_ROWS_PER_FILE = 2_000_000
# A cell longer than this is refused with its row (csv's own default stops at 131,072);
# shorter long cells land, cut to ``max_text_chars`` and flagged as truncated.
MAX_CELL_CHARS = 1 << 20
# Headers naming the site or platform a row came from (来源: 新浪微博). Free text: the rows stay
# under the import's source and keep this as ``site``, like a mapped ``source`` column.
SITE_HEADERS = ("来源", "来源网站", "来源平台", "平台", "媒体", "站点", "site", "platform")


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing, wrong format, empty, bad mapping)."""


class RowError(ValueError):
    """One row cannot be used; the message is the user-facing reason."""


def resolve_columns(headers: list[str], mapping: Mapping[str, str] | None) -> dict[str, str]:
    """Map each header to a PostItem field (or leave it for ``extra``)."""
    mapping = dict(mapping or {})
    bad = [f for f in mapping if f not in FIELDS]
    if bad:
        raise ImportFileError(f"映射中有未知字段：{', '.join(bad)}（可用：{', '.join(FIELDS)}）")
    missing = [col for col in mapping.values() if col not in headers]
    if missing:
        raise ImportFileError(f"文件中没有这些列：{', '.join(missing)}")
    out = {col: f for f, col in mapping.items()}
    taken = set(out.values())
    for header in headers:
        if header in out:
            continue
        key = header.strip().lower()
        for field, names in ALIASES.items():
            if field not in taken and (key == field or key in names):
                out[header] = field
                taken.add(field)
                break
    if "text" not in taken and "title" not in taken:
        raise ImportFileError("找不到正文列：请用 --map text=列名 指定")
    return out


def _to_item(values: Mapping[str, Any], columns: Mapping[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {"extra": {}}
    for header, value in values.items():
        if header is None:  # csv gives surplus cells under None
            raise RowError("列数多于表头")
        field = columns.get(header)
        if value is None:
            continue
        if field == "source" or (not field and "site" not in item
                                 and str(header).strip().lower() in SITE_HEADERS):
            field = "site"  # a row never picks the import's source; it names its platform
        if field:
            item[field] = value
        elif value != "":
            item["extra"][str(header)] = value if isinstance(value, (str, int, float)) else str(value)
    return item


def _decode(raw: bytes) -> str:
    # exports from Windows tools are often GBK; GB18030 is its superset
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别文件编码（支持 UTF-8、GBK/GB18030）")


def _dialect(text: str) -> type[csv.Dialect]:
    """Comma, tab or semicolon, judged by the header line alone: csv.Sniffer also looks at the
    rows, and a row full of semicolons or quotes made it pick a dialect that lost good rows."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0 or best == ",":
        return csv.excel
    return csv.excel_tab if best == "\t" else _Semicolon


class _Semicolon(csv.excel):
    delimiter = ";"


def read_csv(path: Path, mapping: Mapping[str, str] | None = None
             ) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    text = _decode(path.read_bytes())
    dialect = _dialect(text)
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    try:
        headers = [h for h in (reader.fieldnames or []) if h is not None]
    except csv.Error as exc:
        raise ImportFileError(f"无法读取表头：{exc}") from exc
    if not headers:
        raise ImportFileError("文件为空或没有表头")
    columns = resolve_columns(headers, mapping)
    number = 1  # row 1 is the header, as in a spreadsheet
    while True:
        number += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # the reader goes on with the next line
            reason = (f"单元格超过 {MAX_CELL_CHARS} 个字符" if "field limit" in str(exc)
                      else f"无法解析该行：{exc}")
            yield number, RowError(reason)
            continue
        try:
            yield number, _to_item(row, columns)
        except RowError as exc:
            yield number, exc


def read_jsonl(path: Path, mapping: Mapping[str, str] | None = None
               ) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    # JSON lines may differ in their keys: resolve each key set once
    resolved: dict[frozenset[str], dict[str, str]] = {}
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(_decode(raw))
            except (ValueError, RecursionError, ImportFileError) as exc:
                # ValueError also covers an integer literal over 4,300 digits
                yield number, RowError(f"不是有效的 JSON：{str(exc)[:200]}")
                continue
            if not isinstance(obj, dict):
                yield number, RowError("每行应为一个 JSON 对象")
                continue
            keys = frozenset(obj)
            try:
                if keys not in resolved:
                    resolved[keys] = resolve_columns(list(obj), mapping)
                yield number, _to_item(obj, resolved[keys])
            except (RowError, ImportFileError) as exc:
                yield number, RowError(str(exc))


def read_xlsx(path: Path, mapping: Mapping[str, str] | None = None, sheet: str | None = None
              ) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    from openpyxl import load_workbook  # only import files need it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ImportFileError(f"无法打开 Excel 文件：{exc}") from exc
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
    except KeyError as exc:
        raise ImportFileError(f"没有名为 {sheet!r} 的工作表") from exc
    rows = ws.iter_rows(values_only=True)
    header_row = next(rows, None)
    if not header_row:
        raise ImportFileError("工作表为空或没有表头")
    headers = [str(h).strip() if h is not None else f"列{i + 1}" for i, h in enumerate(header_row)]
    columns = resolve_columns(headers, mapping)
    try:
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or v == "" for v in values):
                continue
            try:
                yield number, _to_item(dict(zip(headers, values, strict=False)), columns)
            except RowError as exc:
                yield number, exc
    finally:
        book.close()


def read_file(path: str | Path, mapping: Mapping[str, str] | None = None,
              sheet: str | None = None) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Rows of a CSV, XLSX or JSONL file by its extension."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"文件不存在：{path}")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return read_csv(path, mapping)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return read_jsonl(path, mapping)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, mapping, sheet)
    raise ImportFileError(f"不支持的文件类型 {suffix or '(无扩展名)'}：请用 CSV、XLSX 或 JSONL")


def count_rows(path: str | Path) -> int | None:
    """Rows to expect, for a progress bar; None when it would cost a full parse."""
    path = Path(path)
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json"):
        with path.open("rb") as fh:
            return sum(1 for _ in fh)
    return None

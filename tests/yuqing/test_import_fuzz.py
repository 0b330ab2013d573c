"""Fuzzed imports (JSONL, CSV, XLSX): no exception escapes, every row is stored or rejected
with its row number, and the good rows among hostile ones are all stored.

Bounded: 1,650 cases in all (about 40 s on the shared two-core machine); raise
max_examples locally for a deeper run.
"""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import select

from crawlers.importers import read_file
from store import Post, Source
from yuqing.context import AppContext
from yuqing.ingest import Ingestor, IngestReport

SOURCE = "import:fuzz"
FUZZ = settings(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

NASTY: list[Any] = [
    "0001-01-01", "9999-12-31T23:59:59-12:00", "9999-12-31 23:59:59", "0000-00-00",
    "http://[abc", "http://", "javascript:alert(1)", "https://x.cn:99999/", "Infinity", "-1",
    "NaN", "１２３４５６７８９０１２３４５６", "1.2万", "3亿+", "9" * 400, 10**20, -(10**20),
    2**63, 1e308, "\udcff", "a\x00b", "新浪微博", "", " ", "昨天", "100000000天前",
    "2024-02-30", "２０２４年５月１日", True, None, [1, 2], {"k": "v"},
]
FIELDS = ["text", "title", "url", "published_at", "reply_at", "likes", "reposts", "comments",
          "author", "来源", "source", "备注"]
# CSV and XLSX cells are text or numbers; no surrogates (they cannot be written to a file)
CELL_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
FILE_VALUES = st.one_of(CELL_TEXT, st.integers(-(10**25), 10**25),
                        st.floats(allow_nan=False, allow_infinity=False),
                        st.sampled_from([v for v in NASTY if isinstance(v, (str, int, float))
                                         and not (isinstance(v, str) and ("\udcff" in v
                                                                          or "\x00" in v))]))
JSON_VALUES = st.one_of(st.text(max_size=30), st.integers(-(10**30), 10**30),
                        st.floats(), st.none(), st.booleans(), st.sampled_from(NASTY))

_counter = itertools.count()


def _rows(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[bool, dict[str, Any]]]]:
    hostile = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)
    good = st.builds(lambda n: {"text": f"正常的第{n}条：东山街道路灯不亮",
                                "published_at": "2024-05-01 10:00", "likes": n},
                     st.integers(0, 10**6))
    row = st.one_of(st.tuples(st.just(True), good), st.tuples(st.just(False), hostile))
    return st.lists(row, min_size=1, max_size=6)


def _with_ids(rows: list[tuple[bool, dict[str, Any]]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Every row gets a unique id (so no row is blank and none merges into another)."""
    run = next(_counter)
    out, good = [], []
    for i, (is_good, row) in enumerate(rows):
        ident = f"{'g' if is_good else 'h'}{run}-{i}"
        out.append({"编号": ident, **row})
        if is_good:
            good.append(ident)
    return out, good


def _check(ctx: AppContext, path: Path, rows: int, good: list[str]) -> IngestReport:
    report = Ingestor(ctx.db, None).ingest(read_file(path), source=SOURCE)  # must not raise
    positions = [r.position for r in report.rejected]
    assert len(positions) == len(set(positions))
    assert report.new + report.updated + report.duplicate + len(positions) == rows
    assert all(r.reason for r in report.rejected)
    with ctx.db.session() as s:
        stored = set(s.scalars(select(Post.external_id).join(Post.source).where(
            Source.key == SOURCE, Post.external_id.in_(good))))
    assert stored == set(good), report.rejected
    return report


@pytest.fixture
def fuzz_dir(tmp_path: Path) -> Path:
    return tmp_path


@settings(FUZZ, max_examples=900)
@given(rows=_rows(JSON_VALUES), garbage=st.lists(
    st.tuples(st.integers(0, 6), st.text(min_size=1).filter(lambda t: "\n" not in t and t.strip())),
    max_size=2))
def test_fuzzed_jsonl_never_raises_and_keeps_every_good_row(
        ctx: AppContext, fuzz_dir: Path, rows: list[tuple[bool, dict[str, Any]]],
        garbage: list[tuple[int, str]]) -> None:
    records, good = _with_ids(rows)
    lines = [json.dumps(r, ensure_ascii=True) for r in records]
    for at, junk in garbage:
        lines.insert(min(at, len(lines)), junk)
    path = fuzz_dir / "fuzz.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n")
    _check(ctx, path, len(lines), good)



@settings(FUZZ, max_examples=600)
@given(rows=_rows(FILE_VALUES))
def test_fuzzed_csv_never_raises_and_keeps_every_good_row(
        ctx: AppContext, fuzz_dir: Path, rows: list[tuple[bool, dict[str, Any]]]) -> None:
    records, good = _with_ids(rows)
    header = ["编号", *FIELDS]
    path = fuzz_dir / "fuzz.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in records:
            writer.writerow(["" if r.get(h) is None else r.get(h) for h in header])
    _check(ctx, path, len(records), good)



@settings(FUZZ, max_examples=150)
@given(rows=_rows(FILE_VALUES))
def test_fuzzed_xlsx_never_raises_and_keeps_every_good_row(
        ctx: AppContext, fuzz_dir: Path, rows: list[tuple[bool, dict[str, Any]]]) -> None:
    records, good = _with_ids(rows)
    header = ["编号", *FIELDS]
    book = Workbook()
    ws = book.active
    ws.append(header)
    for r in records:
        ws.append([r.get(h) for h in header])
    path = fuzz_dir / "fuzz.xlsx"
    book.save(path)
    _check(ctx, path, len(records), good)


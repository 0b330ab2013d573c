"""The streaming export writer: formula injection neutralised, files read back as written."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import openpyxl
import pytest
from flask import Flask, request

from webui.exports import export_response, neutralise

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)",
           "\tcmd", "\rcmd", "正常文本", "a=b"]


def test_text_that_would_start_a_formula_gets_an_apostrophe():
    assert [neutralise(v) for v in HOSTILE] == [
        "'=HYPERLINK(\"http://evil.example\",\"点我\")", "'+1+1", "'-2+3", "'@SUM(A1)",
        "'\tcmd", "'\rcmd", "正常文本", "a=b"]
    assert neutralise(-5) == -5  # a real number stays a number
    assert neutralise(None) == ""


@pytest.fixture
def exporter() -> Flask:
    app = Flask(__name__)
    consumed: list[int] = []
    app.config["consumed"] = consumed

    def rows() -> Iterator[list[object]]:
        for i, text in enumerate(HOSTILE):
            consumed.append(i)
            yield [i, text, datetime(2026, 10, 8, 1, 30, tzinfo=UTC), "控制\x01字符"]

    @app.get("/export")
    def export() -> object:
        return export_response(rows(), ["序号", "内容", "时间", "备注"],
                               request.args.get("format", ""), "案件列表")

    return app


def test_csv_streams_rows_and_neutralises_formulas(exporter: Flask):
    client = exporter.test_client()
    r = client.get("/export?format=csv")
    # the generator has not run yet: the body is produced while the response streams
    assert exporter.config["consumed"] == []
    assert r.is_streamed
    text = r.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["序号", "内容", "时间", "备注"]
    assert [row[1] for row in rows[1:]] == [neutralise(v) for v in HOSTILE]
    assert "filename*=UTF-8''%E6%A1%88" in r.headers["Content-Disposition"]
    assert r.headers["Content-Disposition"].count(".csv") == 2


def test_xlsx_reads_back_with_text_never_a_formula(exporter: Flask):
    r = exporter.test_client().get("/export?format=xlsx")
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.get_data()))
    sheet = book.active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("序号", "内容", "时间", "备注")
    assert [v[1] for v in values[1:]] == [neutralise(v) for v in HOSTILE]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert values[1][2] == datetime(2026, 10, 8, 1, 30)
    assert values[1][3] == "控制字符"  # characters XML cannot hold are dropped


def test_unknown_format_is_a_chinese_400(exporter: Flask):
    r = exporter.test_client().get("/export?format=pdf")
    assert r.status_code == 400
    assert "导出格式只支持" in r.get_data(as_text=True)

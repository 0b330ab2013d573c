"""Training on a customer's labeled history (CSV, XLSX or JSONL) plus monitors' corrections.

Corrections (``--with-feedback``) are read from ``<feedback_dir>/<kind>.jsonl``: one JSON object
per line with ``text``, optional ``title`` and ``label`` (the console appends them there).
Labels are taken as given for topics (any label set); sentiment labels must be one of
negative/neutral/positive (or 负面/中性/正面), or numbers read as a whole set: ``0/1`` is the
usual binary format and means negative/positive, ``-1/0/1`` means negative/neutral/positive,
any other numeric set (``0/1/2``, stars ``1–5``) is refused as ambiguous. Severity labels one
of I, II, III, IV, none (or 特别重大/重大/较大/一般/无, 1–4/0). The mapping is reported.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nlp.models import TextModel, TrainingError, TrainSettings, format_report, train
from nlp.normalize import analysis_text
from nlp.registry import KINDS
from nlp.sentiment import LABEL_ALIASES, LABEL_NAMES
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
    label_map: dict[str, str] = field(default_factory=dict)  # raw label -> model label


_NUMERIC = re.compile(r"^[+-]?\d+(?:\.0+)?$")


def _raw_label(raw: object) -> str:
    value = "" if raw is None else str(raw).strip()
    if _NUMERIC.match(value):  # Excel hands 1 back as 1.0, CSV may say +1
        value = str(int(float(value)))
    return value


def sentiment_label_map(raw_labels: Iterable[str]) -> dict[str, str]:
    """Map a file's whole sentiment label set at once; numbers only mean something as a set.

    ``0/1`` (the common binary format) is negative/positive, ``-1/0/1`` is
    negative/neutral/positive. Numbers mixed with words, or any other numeric set, are
    ambiguous and refused. Words outside the aliases are left out (their rows are skipped).
    """
    values = sorted({_raw_label(v) for v in raw_labels if _raw_label(v)})
    numbers = [v for v in values if _NUMERIC.match(v)]
    words = [v for v in values if not _NUMERIC.match(v)]
    shown = "、".join(values[:12])
    advice = ("请把标签改为 负面/中性/正面（或 negative/neutral/positive）；二分类也可用 0/1"
              "（0 = 负面，1 = 正面），三分类也可用 -1/0/1（-1 = 负面，0 = 中性，1 = 正面）")
    if numbers and any(LABEL_ALIASES.get(w.lower()) for w in words):
        raise TrainingError(f"情感标签同时出现数字和文字（{shown}），无法确定数字的含义。{advice}")
    if set(numbers) <= {"0", "1"}:
        mapping = {"0": "negative", "1": "positive"}
    elif set(numbers) <= {"-1", "0", "1"}:
        mapping = {"-1": "negative", "0": "neutral", "1": "positive"}
    else:
        raise TrainingError(f"情感标签 {'、'.join(numbers)} 含义不明确（例如 0/1/2 或 1–5 星"
                            f"各家约定不同）。{advice}")
    out = {n: mapping[n] for n in numbers}
    for w in words:
        canon = LABEL_ALIASES.get(w.lower())
        if canon is not None:
            out[w] = canon
    return out


def label_map_for(kind: str, raw_labels: Iterable[str]) -> dict[str, str]:
    raw = sorted({_raw_label(v) for v in raw_labels})
    if kind == "sentiment":
        return sentiment_label_map(raw)
    if kind == "severity":
        out = {}
        for v in raw:
            canon = SEVERITY_ALIASES.get(v.lower(), SEVERITY_ALIASES.get(v))
            if canon is not None:
                out[v] = canon
        return out
    return {v: v for v in raw if v}


def canonical_label(kind: str, raw: object) -> str | None:
    """One label on its own (a monitor's correction): numbers are read as -1/0/1."""
    value = _raw_label(raw)
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
    raw: list[tuple[object, object, object, str]] = []
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
        raw.append((row.get(text_col), row.get(title_col) if title_col else None,
                    row.get(label_col), f"第 {n} 行"))
    if not checked:
        raise TrainingError(f"{path.name} 没有数据行")
    return _collect(kind, raw)


def _collect(kind: str, raw: list[tuple[object, object, object, str]]) -> ReadResult:
    """Map the label set as a whole (see ``sentiment_label_map``), then keep usable rows."""
    has_text = [r for r in raw if str(r[0] or "").strip() or str(r[1] or "").strip()]
    mapping = label_map_for(kind, (_raw_label(r[2]) for r in has_text))
    result = ReadResult(label_map=mapping)
    for text, title, label, where in raw:
        _add(result, text, title, mapping.get(_raw_label(label)), label, where)
    used = {e.label for e in result.examples}
    result.label_map = {k: v for k, v in mapping.items() if v in used}
    return result


def read_feedback(feedback_dir: Path | str | None, kind: str) -> ReadResult:
    """Monitors' corrections; a missing file means none yet."""
    result = ReadResult()
    if feedback_dir is None:
        return result
    path = Path(feedback_dir) / f"{kind}.jsonl"
    if not path.is_file():
        return result
    raw: list[tuple[object, object, object, str]] = []
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
            # corrections are single labels written by the console: read one by one
            raw.append((row.get("text"), row.get("title"), row.get("label"),
                        f"纠错记录第 {n} 行"))
    for text, title, label, where in raw:
        _add(result, text, title, canonical_label(kind, label), label, where)
    return result


def _add(result: ReadResult, text: object, title: object, canon: str | None, label: object,
         where: str) -> None:
    text_s = "" if text is None else str(text)
    title_s = "" if title is None else str(title)
    if not (text_s.strip() or title_s.strip()):
        result.skipped.append(f"{where}：文本为空")
        return
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
               settings: TrainSettings | None = None, source: str = "",
               label_map: dict[str, str] | None = None) -> TextModel:
    if kind not in KINDS:
        raise TrainingError(f"未知的模型类型 {kind!r}：可选 {'、'.join(KINDS)}")
    if not examples:
        raise TrainingError("没有可用的训练样本")
    texts = [analysis_text(e.title, e.text) for e in examples]
    labels = [e.label for e in examples]
    return train(kind, texts, labels, tokenizer, settings, evaluate=True,
                 meta={"source": source, "label_map": dict(label_map or {})})


KIND_NAMES = {"topic": "领域", "sentiment": "情感", "severity": "预警等级"}


def describe_label_map(kind: str, label_map: dict[str, str]) -> str:
    """One line saying which label in the file became which class of the model."""
    if not label_map:
        return ""
    if all(k == v for k, v in label_map.items()):
        return f"标签对应：按文件中的标签原样使用（{len(set(label_map.values()))} 个类别）"
    names = LABEL_NAMES if kind == "sentiment" else {}
    parts = [f"{raw} → {names.get(canon, canon)}" + (f"（{canon}）" if canon in names else "")
             for raw, canon in sorted(label_map.items(), key=lambda kv: (kv[1], kv[0]))]
    return "标签对应：文件中的 " + "；".join(parts[:20]) + ("……" if len(parts) > 20 else "")


def describe(model: TextModel, skipped: list[str], path: Path | None,
             label_map: dict[str, str] | None = None) -> str:
    lines = [f"模型类型：{KIND_NAMES.get(model.kind, model.kind)}（{model.kind}）",
             f"模型版本：{model.version}"]
    mapped = describe_label_map(model.kind, label_map or model.meta.get("label_map") or {})
    if mapped:
        lines.append(mapped)
    names = LABEL_NAMES if model.kind == "sentiment" else None
    lines.append(format_report(model.metrics, names))
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

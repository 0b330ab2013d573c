"""Training files: how labels are read (0/1 is negative/positive), what is refused, and a
report a monitor can read (aligned confusion matrix, per-class precision and recall)."""

import csv
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from nlp.models import TrainingError, _width, format_report
from nlp.registry import SEED_FILES, seed_rows
from nlp.training import read_examples, sentiment_label_map
from yuqing.commands.nlp import run_train, train_command
from yuqing.settings import load_settings

BINARY = {"negative": "0", "positive": "1"}


@pytest.fixture(scope="module")
def polar_rows():
    """Hand-written seed rows: 60 complaints and 60 praises, as a customer's 0/1 file."""
    rows = seed_rows("sentiment", SEED_FILES["sentiment"][:1])
    neg = [r for r in rows if r["label"] == "negative"][:60]
    pos = [r for r in rows if r["label"] == "positive"][:60]
    return neg + pos


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(("labels", "expected"), [
    ({"0", "1"}, {"0": "negative", "1": "positive"}),
    ({"-1", "0", "1"}, {"-1": "negative", "0": "neutral", "1": "positive"}),
    ({"-1", "1"}, {"-1": "negative", "1": "positive"}),
    ({"1.0", "0.0"}, {"0": "negative", "1": "positive"}),  # what Excel hands back
    ({"负面", "正面", "中性"}, {"负面": "negative", "正面": "positive", "中性": "neutral"}),
    ({"negative", "positive", "乱写"}, {"negative": "negative", "positive": "positive"}),
])
def test_a_label_set_is_mapped_as_a_whole(labels, expected):
    assert sentiment_label_map(labels) == expected


@pytest.mark.parametrize(("labels", "why"), [
    ({"0", "1", "2"}, "含义不明确"),
    ({"1", "2", "3", "4", "5"}, "含义不明确"),
    ({"1", "2"}, "含义不明确"),
    ({"0", "1", "正面"}, "同时出现数字和文字"),
])
def test_ambiguous_label_sets_are_refused_in_chinese(labels, why):
    with pytest.raises(TrainingError) as exc:
        sentiment_label_map(labels)
    assert why in str(exc.value)
    assert "0 = 负面，1 = 正面" in str(exc.value)  # and it says what would work


def test_binary_0_1_file_trains_negative_positive_and_the_report_says_so(polar_rows, tmp_path):
    src = write_csv(tmp_path / "binary.csv",
                    [{"text": r["text"], "label": BINARY[r["label"]]} for r in polar_rows])
    read = read_examples(src, "sentiment", "text", "label")
    assert read.label_map == {"0": "negative", "1": "positive"}
    by_text = {e.text: e.label for e in read.examples}
    assert all(by_text[r["text"]] == r["label"] for r in polar_rows)

    settings = load_settings(home=tmp_path / "instance", environ={})
    result = CliRunner().invoke(train_command, ["sentiment", "--input", str(src), "--json"],
                                obj=SimpleNamespace(settings=settings))
    assert result.exit_code == 0, result.output
    assert "标签对应：文件中的 0 → 负面（negative）；1 → 正面（positive）" in result.output
    meta = json.loads((settings.models_dir / "sentiment.json").read_text(encoding="utf-8"))
    assert set(meta["labels"]) == {"negative", "positive"}
    assert meta["meta"]["label_map"] == {"0": "negative", "1": "positive"}


def test_an_ambiguous_file_exits_1_and_installs_nothing(polar_rows, tmp_path):
    stars = {"negative": "1", "positive": "3"}
    rows = [{"text": r["text"], "label": stars[r["label"]]} for r in polar_rows]
    rows[0]["label"] = "2"
    src = write_csv(tmp_path / "stars.csv", rows)
    settings = load_settings(home=tmp_path / "instance", environ={})
    result = CliRunner().invoke(train_command, ["sentiment", "--input", str(src)],
                                obj=SimpleNamespace(settings=settings))
    assert result.exit_code == 1
    assert "训练失败" in result.output and "含义不明确" in result.output
    assert not (settings.models_dir / "sentiment.joblib").exists()


def test_excel_numbers_as_floats_are_read_as_binary(polar_rows, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["内容", "极性"])
    for r in polar_rows:
        sheet.append([r["text"], float(BINARY[r["label"]])])
    book.save(tmp_path / "b.xlsx")
    settings = load_settings(home=tmp_path / "instance", environ={})
    outcome = run_train(settings, "sentiment", tmp_path / "b.xlsx", "内容", "极性",
                        install=False)
    assert set(outcome.model.labels) == {"negative", "positive"}
    assert "0 → 负面（negative）" in outcome.report


def _ends(line: str) -> list[int]:
    """Display column where each cell ends (a Chinese character is two columns wide)."""
    return [_width(line[:m.end()]) for m in re.finditer(r"\S+", line)]


def _matrix_lines(report: str) -> list[str]:
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("混淆矩阵"))
    return lines[start + 1:]


def test_the_confusion_matrix_stays_aligned_with_large_counts():
    matrix = [[1, 39121943, 7], [2, 10, 123456], [0, 5, 88]]
    labels = ["negative", "neutral", "positive"]
    metrics = {"examples": 39245515, "cv_folds": 5, "accuracy": 0.5, "macro_f1": 0.4,
               "report": {lab: {"precision": 0.5, "recall": 0.25, "f1-score": 0.33,
                                "support": sum(row)} for lab, row in zip(labels, matrix, strict=True)},
               "confusion": {"labels": labels, "matrix": matrix}}
    report = format_report(metrics, {"negative": "负面", "neutral": "中性", "positive": "正面"})
    lines = _matrix_lines(report)
    assert len(lines) == 4
    # every cell ends in the same display column as its header: a right-aligned table
    header = lines[0]
    for line, row in zip(lines[1:], matrix, strict=True):
        numbers = [int(x) for x in line.split()[-3:]]
        assert numbers == row  # never run together
        assert _ends(line)[-3:] == _ends(header)[-3:]
    # per-class precision and recall in words a monitor reads
    assert "负面（negative）" in report and "召回率" in report and "精确率" in report
    assert "找出 25%" in report


def test_a_real_training_report_reads_cleanly(polar_rows, tmp_path):
    src = write_csv(tmp_path / "words.csv",
                    [{"text": r["text"], "label": {"negative": "负面", "positive": "正面"}[
                        r["label"]]} for r in polar_rows])
    settings = load_settings(home=tmp_path / "instance", environ={})
    outcome = run_train(settings, "sentiment", src, "text", "label", install=False)
    lines = _matrix_lines(outcome.report)
    conf = outcome.model.metrics["confusion"]["matrix"]
    assert [[int(x) for x in line.split()[-2:]] for line in lines[1:]] == conf
    assert sum(map(sum, conf)) == len(polar_rows)
    assert "模型类型：情感（sentiment）" in outcome.report


DEPARTMENTS = {"education": "区教育局", "health": "区卫健委", "housing": "区住房和城乡建设局",
               "traffic": "区交通运输局"}


def test_a_topic_report_with_department_names_and_large_counts_stays_aligned():
    labels = list(DEPARTMENTS.values())  # Chinese labels of unequal width, no display names
    matrix = [[98765, 3, 0, 12], [4, 1234567, 5, 0], [0, 7, 22, 1], [10, 0, 2, 54321]]
    metrics = {"examples": sum(map(sum, matrix)), "cv_folds": 5, "accuracy": 0.99,
               "macro_f1": 0.9,
               "report": {lab: {"precision": 0.9, "recall": 0.8, "f1-score": 0.85,
                                "support": sum(row)} for lab, row in zip(labels, matrix, strict=True)},
               "confusion": {"labels": labels, "matrix": matrix}}
    report = format_report(metrics)
    lines = _matrix_lines(report)
    header = lines[0]
    for line, lab, row in zip(lines[1:], labels, matrix, strict=True):
        assert line.startswith(lab)
        assert [int(x) for x in line.split()[1:]] == row
        assert _ends(line)[1:] == _ends(header)[-4:]
    table = report.splitlines()
    per_class = [line for line in table if line.startswith(tuple(labels))][:4]
    assert len({_ends(line)[-1] for line in per_class}) == 1  # the 样本数 column lines up too
    assert "区住房和城乡建设局：30 条中找出 80%" in report


def test_yuqing_train_topic_prints_a_readable_aligned_report(tmp_path):
    rows = [{"内容": r["text"], "承办部门": DEPARTMENTS[r["label"]]}
            for r in seed_rows("topic") if r["label"] in DEPARTMENTS]
    src = write_csv(tmp_path / "history.csv", rows)
    settings = load_settings(home=tmp_path / "instance", environ={})
    result = CliRunner().invoke(train_command, ["topic", "--input", str(src), "--text", "内容",
                                                "--label", "承办部门"],
                                obj=SimpleNamespace(settings=settings))
    assert result.exit_code == 0, result.output
    assert "模型类型：领域（topic）" in result.output
    assert "召回率" in result.output and "精确率" in result.output
    for name in DEPARTMENTS.values():
        assert f"· {name}：" in result.output and "条中找出" in result.output
    meta = json.loads((settings.models_dir / "topic.json").read_text(encoding="utf-8"))
    conf = meta["metrics"]["confusion"]
    lines = _matrix_lines(result.output)[:len(conf["labels"]) + 1]
    header = lines[0]
    for line, lab, row in zip(lines[1:], conf["labels"], conf["matrix"], strict=True):
        assert line.startswith(lab)
        assert [int(x) for x in line.split()[1:]] == row
        assert _ends(line)[1:] == _ends(header)[-len(row):]
    assert sum(map(sum, conf["matrix"])) == len(rows)

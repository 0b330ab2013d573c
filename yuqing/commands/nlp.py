"""CLI: ``yuqing analyze`` (audit the models on a JSONL file, no database) and
``yuqing train topic|sentiment|severity`` (fit on the customer's history, install).

The cores are plain functions (``run_analyze``, ``run_train``) called by tests; the click
commands are thin wrappers that take the settings from ``ctx.obj``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml

from nlp.analyzer import Analyzer, to_audit_dict
from nlp.models import TrainingError
from nlp.posts import PostError, post_from_dict
from nlp.registry import KINDS, ModelStore
from nlp.severity import SeverityConfigError, config_from
from nlp.tokenize import Tokenizer
from nlp.training import TrainOutcome, describe, read_examples, read_feedback, train_kind
from nlp.types import EventAssigner, PlaceFinder, PostInput
from yuqing.settings import Settings, shipped_config_dir

CHUNK = 256


# ---- wiring from settings to nlp's plain data -----------------------------------------------

def severity_data(settings: Settings) -> dict[str, Any]:
    """The ``severity:`` section: shipped config/severity.yaml, then ``<home>/severity.yaml``.

    Until settings validation owns this file it is read here; bad keys raise
    SeverityConfigError naming the key.
    """
    section = getattr(settings, "severity", None)
    if section is not None:  # the lead's settings carry it once validated there
        return dict(section if isinstance(section, Mapping) else section.model_dump())
    data: dict[str, Any] = {}
    for path in (shipped_config_dir() / "severity.yaml", settings.home / "severity.yaml"):
        if path.is_file():
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict) or not isinstance(loaded.get("severity", {}), dict):
                raise SeverityConfigError(f"{path}: severity 必须是映射")
            data = _merge(data, loaded.get("severity") or {})
    config_from(data)  # validate now: refuse at start, not on the first post
    return data


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = (_merge(out[key], value) if isinstance(out.get(key), dict)
                    and isinstance(value, Mapping) else value)
    return out


def home_words(settings: Settings) -> list[str]:
    """Place names and aliases of the home jurisdiction, its parents, upper and neighbours."""
    j = settings.jurisdictions
    words: list[str] = []
    for place in [*j.home_places(), *j.home.parents]:
        words += [place.name, *place.aliases]
    if j.upper:
        words.append(j.upper.name)
    words += [n.name for n in j.neighbours]
    return words


def place_finder_for(settings: Settings) -> PlaceFinder:
    """The gazetteer place finder with the configured home jurisdiction."""
    from nlp.places import GazetteerPlaceFinder

    return GazetteerPlaceFinder(settings.jurisdictions.home.model_dump())


def new_event_index() -> EventAssigner:
    """A fresh in-memory event index: event ids are clusters within one run."""
    from nlp.events import EventIndex

    return EventIndex()


def build_analyzer(settings: Settings, place_finder: PlaceFinder | None = None,
                   event_assigner: EventAssigner | None = None) -> Analyzer:
    return Analyzer(
        topics=[t.model_dump() for t in settings.taxonomy.topics],
        severity=severity_data(settings),
        home_places=home_words(settings),
        models_dir=settings.models_dir,
        cache_dir=settings.models_dir / "cache",
        place_finder=place_finder,
        event_assigner=event_assigner,
        urgent_categories=dict(settings.taxonomy.urgent_categories),
    )


# ---- analyze ------------------------------------------------------------------------------

@dataclass
class AnalyzeSummary:
    posts: int = 0
    errors: int = 0
    output: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"posts": self.posts, "errors": self.errors, "output": self.output}


def _read_posts(path: Path) -> Iterator[tuple[int, PostInput | None, str, str]]:
    """(line number, post or None, id, error) for every non-empty line, in order."""
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, None, "", f"第 {n} 行不是合法的 JSON：{exc.msg}"
                continue
            raw_id = record.get("id") if isinstance(record, dict) else None
            try:
                yield n, post_from_dict(record, fallback_id=f"line-{n}"), str(raw_id or ""), ""
            except PostError as exc:
                yield n, None, str(raw_id or ""), f"第 {n} 行：{exc}"


def run_analyze(settings: Settings, input_path: Path | str, output_path: Path | str,
                place_finder: PlaceFinder | None = None,
                event_assigner_factory: Callable[[], EventAssigner] | None = new_event_index,
                analyzer: Analyzer | None = None, places: bool = True) -> AnalyzeSummary:
    """Analyze every JSONL post into one output line each, in input order; no database.

    A bad line yields ``{"id", "line", "error"}`` in its place so lines stay aligned.
    Places come from the gazetteer (``places=False`` leaves them empty); events from a fresh
    in-memory index, so event ids are clusters within the run (factory ``None``: no events).
    """
    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise click.ClickException(f"找不到输入文件：{input_path}")
    if place_finder is None and places:
        place_finder = place_finder_for(settings)
    analyzer = analyzer or build_analyzer(
        settings, place_finder, event_assigner_factory() if event_assigner_factory else None)
    summary = AnalyzeSummary(output=str(output_path))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with output_path.open("w", encoding="utf-8") as out:
        pending: list[tuple[int, PostInput | None, str, str]] = []

        def flush() -> None:
            posts = [p for _, p, _, _ in pending if p is not None]
            results = iter(analyzer.analyze_batch(posts))
            for n, post, raw_id, error in pending:
                if post is None:
                    row: dict[str, Any] = {"id": raw_id or None, "line": n, "error": error}
                    summary.errors += 1
                else:
                    row = to_audit_dict(next(results))
                summary.posts += 1
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            pending.clear()

        for item in _read_posts(input_path):
            pending.append(item)
            if len(pending) >= CHUNK:
                flush()
        flush()
    return summary


# ---- train --------------------------------------------------------------------------------

def run_train(settings: Settings, kind: str, input_path: Path | str | None, text_col: str,
              label_col: str, title_col: str | None = None, with_feedback: bool = False,
              install: bool = True) -> TrainOutcome:
    """Read, cross-validate, fit and install; raises TrainingError with a Chinese message."""
    if kind not in KINDS:
        raise TrainingError(f"未知的模型类型 {kind!r}：可选 {'、'.join(KINDS)}")
    examples, skipped = [], []
    label_map: dict[str, str] = {}
    if input_path is not None:
        read = read_examples(input_path, kind, text_col, label_col, title_col)
        examples += read.examples
        skipped += read.skipped
        label_map = read.label_map
    if with_feedback:
        fb = read_feedback(settings.home / "feedback", kind)
        examples += fb.examples
        skipped += fb.skipped
    if input_path is None and not with_feedback:
        raise TrainingError("请用 --input 指定训练文件，或用 --with-feedback 使用纠错记录")
    tokenizer = Tokenizer(extra_words=home_words(settings))
    model = train_kind(kind, examples, tokenizer, source=str(input_path or "feedback"),
                       label_map=label_map)
    path = None
    if install:
        path = ModelStore(settings.models_dir, tokenizer).install(model)
    return TrainOutcome(model=model, report=describe(model, skipped, path), path=path,
                        skipped=skipped)


# ---- click wrappers -------------------------------------------------------------------------

def _settings(ctx: click.Context) -> Settings:
    obj = ctx.obj
    if obj is not None and getattr(obj, "settings", None) is not None:
        return obj.settings
    from yuqing.settings import load_settings

    return load_settings()


@click.command("analyze")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="JSONL 帖子文件（字段：id、title、text、source、author、published_at、url、"
                   "reposts、comments、likes、followers）")
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="输出 JSONL：每条输入一行，顺序相同")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 摘要")
@click.pass_context
def analyze_command(ctx: click.Context, input_path: str, output_path: str, as_json: bool) -> None:
    """对 JSONL 帖子运行完整分析（不访问数据库），用于审查模型。"""
    try:
        summary = run_analyze(_settings(ctx), input_path, output_path)
    except SeverityConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已分析 {summary.posts} 条，其中 {summary.errors} 条无法解析；结果：{output_path}")
    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))


@click.command("train")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--input", "input_path", type=click.Path(dir_okay=False),
              help="已标注的历史数据：CSV、XLSX 或 JSONL")
@click.option("--text", "text_col", default="text", show_default=True, help="正文列名")
@click.option("--title", "title_col", default=None, help="标题列名（可选）")
@click.option("--label", "label_col", default="label", show_default=True, help="标签列名")
@click.option("--with-feedback", is_flag=True, help="加入控制台中的人工纠错记录")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 结果")
@click.pass_context
def train_command(ctx: click.Context, kind: str, input_path: str | None, text_col: str,
                  title_col: str | None, label_col: str, with_feedback: bool,
                  as_json: bool) -> None:
    """训练领域（topic）、情感（sentiment）或等级（severity）模型，交叉验证后安装到实例。"""
    try:
        outcome = run_train(_settings(ctx), kind, input_path, text_col, label_col, title_col,
                            with_feedback)
    except TrainingError as exc:
        click.echo(f"训练失败：{exc}", err=True)
        if as_json:
            click.echo(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False))
        sys.exit(1)
    click.echo(outcome.report)
    if as_json:
        m = outcome.model
        click.echo(json.dumps({"ok": True, "kind": m.kind, "version": m.version,
                               "path": str(outcome.path), "macro_f1": m.metrics.get("macro_f1"),
                               "examples": m.metrics.get("examples")}, ensure_ascii=False))


COMMANDS: list[click.Command] = [analyze_command, train_command]

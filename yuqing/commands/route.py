"""`yuqing route`: analysis plus routing over a JSONL file, no database writes.

Customers run it to check their routing rules before going live. The output is a stable,
documented contract: one JSON line per input line, in input order, with exactly these keys

    id           the post's id (string; "line-N" when the input had none)
    alert        true when the post reaches an alert level (I–IV)
    severity     1..4 (1 = I 特别重大) or null
    outside      true when every place lies outside the home jurisdiction (通报, no assignment)
    lead         {"name", "code"} of the lead unit, or null (outside, or waiting for the monitors)
    co           [{"name", "code"}] co-handling units, possibly empty
    deadlines    {"sign", "first_response", "press_conference", "answer"}: ISO 8601 or null
    explanation  Chinese text naming the rule applied (【R2-多属地】…) and the facts behind it

A line that cannot be read gives {"id", "error"} in its place (never a crash). Deadlines run from
``--start`` when given, else from the post's published_at, else from now.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import click

from nlp.types import Analysis, PostInput
from routing import STEPS, Decision, Facts, RoutingConfig, decide
from yuqing.routing_setup import routing_config_from_settings
from yuqing.settings import Settings
from yuqing.values import BadValue, parse_count, parse_time

log = logging.getLogger(__name__)

CHUNK = 256  # posts per analyze_batch call: the analyzer's per-call cost is paid per chunk
OUTPUT_KEYS = ("id", "alert", "severity", "outside", "lead", "co", "deadlines", "explanation")


class BatchAnalyzer(Protocol):
    def analyze_batch(self, posts: list[PostInput]) -> list[Analysis]: ...


@dataclass
class RouteSummary:
    posts: int = 0
    errors: int = 0
    alerts: int = 0
    outside: int = 0
    triage: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    output: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"posts": self.posts, "errors": self.errors, "alerts": self.alerts,
                "outside": self.outside, "triage": self.triage, "rules": self.rules,
                "output": self.output}


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadValue(f"{key} 字段应为字符串")
    return value


def post_from_record(record: Any, line: int, timezone: str) -> PostInput:
    """One JSONL record as a PostInput, or BadValue with a Chinese reason."""
    if not isinstance(record, dict):
        raise BadValue("每一行应为一个 JSON 对象")
    raw_id = record.get("id")
    if raw_id is not None and not isinstance(raw_id, str | int):
        raise BadValue("id 字段应为字符串或整数")
    text, title = _text(record, "text"), _text(record, "title")
    if not (text.strip() or title.strip()):
        raise BadValue("缺少 text 和 title，没有可分析的内容")
    return PostInput(
        id=str(raw_id) if raw_id not in (None, "") else f"line-{line}",
        text=text, title=title, source=_text(record, "source"),
        source_kind=_text(record, "source_kind"), author=_text(record, "author"),
        published_at=parse_time(record.get("published_at"), timezone),
        url=_text(record, "url"),
        reposts=parse_count(record.get("reposts"), "转发数"),
        comments=parse_count(record.get("comments"), "评论数"),
        likes=parse_count(record.get("likes"), "点赞数"),
        followers=parse_count(record.get("followers"), "粉丝数"),
        authority=_text(record, "authority"), default_place=_text(record, "default_place"))


def _read(path: Path, timezone: str) -> Iterator[tuple[PostInput | None, dict[str, Any] | None]]:
    """(post, None) or (None, error line) for every non-empty input line, in order."""
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield None, {"id": None, "error": f"第 {n} 行不是合法的 JSON：{exc.msg}"}
                continue
            try:
                yield post_from_record(record, n, timezone), None
            except BadValue as exc:
                raw = record.get("id") if isinstance(record, dict) else None
                yield None, {"id": str(raw) if isinstance(raw, str | int) else None,
                             "error": f"第 {n} 行：{exc}"}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def decision_line(post_id: str, decision: Decision) -> dict[str, Any]:
    """The documented output line for one routed post (keys in OUTPUT_KEYS order)."""
    return {
        "id": post_id, "alert": decision.alert, "severity": decision.severity,
        "outside": decision.outside,
        "lead": decision.lead.to_dict() if decision.lead else None,
        "co": [u.to_dict() for u in decision.co],
        "deadlines": {step: _iso(decision.deadlines.get(step)) for step in STEPS},
        "explanation": decision.explanation,
    }


def _analyze(analyzer: BatchAnalyzer, posts: list[PostInput]
             ) -> list[Analysis | str]:
    """Analyses in order; when a batch fails, each post alone, so one bad post costs one line."""
    if not posts:
        return []
    try:
        results: list[Analysis | str] = list(analyzer.analyze_batch(posts))
        if len(results) == len(posts):
            return results
        log.error("分析器返回 %d 条结果，输入 %d 条；逐条重试", len(results), len(posts))
    except Exception:
        log.exception("批量分析失败，逐条重试")
    out: list[Analysis | str] = []
    for post in posts:
        try:
            out.append(analyzer.analyze_batch([post])[0])
        except Exception as exc:  # recorded in the output line, never a crash of the run
            log.exception("分析失败：%s", post.id)
            out.append(f"分析失败：{type(exc).__name__}: {exc}")
    return out


def run_route(settings: Settings, input_path: Path | str, output_path: Path | str,
              analyzer: BatchAnalyzer, start: datetime | None = None,
              config: RoutingConfig | None = None, now: datetime | None = None) -> RouteSummary:
    """Analyze and route every JSONL post into one output line each, in input order.
    ``now`` (the context's clock) starts the limits of a post without a time."""
    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise click.ClickException(f"找不到输入文件：{input_path}")
    cfg = config or routing_config_from_settings(settings)
    summary = RouteSummary(output=str(output_path))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with output_path.open("w", encoding="utf-8") as out:
        pending: list[tuple[PostInput | None, dict[str, Any] | None]] = []

        def flush() -> None:
            posts = [p for p, _ in pending if p is not None]
            results = iter(_analyze(analyzer, posts))
            for post, error in pending:
                row = error if post is None else _route_one(post, next(results), cfg, start,
                                                            summary, now)
                summary.posts += 1
                if "error" in row:
                    summary.errors += 1
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            pending.clear()

        for item in _read(input_path, settings.app.timezone):
            pending.append(item)
            if len(pending) >= CHUNK:
                flush()
        flush()
    return summary


def _route_one(post: PostInput, analysis: Analysis | str, cfg: RoutingConfig,
               start: datetime | None, summary: RouteSummary,
               now: datetime | None = None) -> dict[str, Any]:
    if isinstance(analysis, str):
        return {"id": post.id, "error": analysis}
    try:
        facts = Facts.from_analysis(analysis, post)
        decision = decide(facts, cfg, start or post.published_at or now or datetime.now(UTC))
    except Exception as exc:  # a malformed analysis: recorded, the run goes on
        log.exception("路由失败：%s", post.id)
        return {"id": post.id, "error": f"路由失败：{type(exc).__name__}: {exc}"}
    summary.alerts += decision.alert
    summary.outside += decision.outside
    summary.triage += decision.triage
    summary.rules[decision.rule] = summary.rules.get(decision.rule, 0) + 1
    return decision_line(post.id, decision)


def default_analyzer(settings: Settings) -> BatchAnalyzer:
    """The analyzer of `yuqing route` when the app context supplies none.

    The nlp analyzer with the gazetteer place finder (routing needs places to decide), both
    built from settings; once per command run.
    """
    try:
        from nlp.places import GazetteerPlaceFinder  # type: ignore[import-not-found]
        from yuqing.commands.nlp import build_analyzer  # type: ignore[import-not-found]
    except ImportError as exc:
        raise click.ClickException(f"分析模块（nlp）尚未安装，无法运行 route：{exc}") from exc
    finder = GazetteerPlaceFinder(home=settings.jurisdictions.home.model_dump())
    return build_analyzer(settings, place_finder=finder)  # type: ignore[no-any-return]


def _parse_start(value: str | None, timezone: str) -> datetime | None:
    try:
        return parse_time(value, timezone)
    except BadValue as exc:
        raise click.BadParameter(str(exc), param_hint="--start") from exc


@click.command("route")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="JSONL 帖子文件（字段：id、title、text、source、default_place、published_at…）")
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="输出 JSONL：每条输入一行，顺序相同（id、alert、severity、outside、lead、co、"
                   "deadlines、explanation）")
@click.option("--start", default=None, metavar="TIME",
              help="时限起算时间（如 2026-10-01T09:00），默认取帖子发布时间，再默认当前时间")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 摘要")
@click.pass_obj
def route_command(app: Any, input_path: str, output_path: str, start: str | None,
                  as_json: bool) -> None:
    """分析并按责任规则分派（不写数据库），用于上线前核对路由规则。"""
    settings: Settings = app.settings
    analyzer = getattr(app, "analyzer", None) or default_analyzer(settings)
    summary = run_route(settings, input_path, output_path, analyzer,
                        start=_parse_start(start, settings.app.timezone),
                        now=app.now() if callable(getattr(app, "now", None)) else None)
    click.echo(f"已处理 {summary.posts} 条：预警 {summary.alerts}，属地外通报 {summary.outside}，"
               f"待研判 {summary.triage}，无法解析 {summary.errors}；结果：{output_path}")
    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))


COMMANDS: Sequence[click.Command] = [route_command]

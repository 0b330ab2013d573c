"""A briefing as a list of simple blocks (headings, paragraphs, tables, figures).

The figures from ``routing.reports.briefing`` / ``special`` are laid out once here; the HTML
page, the DOCX and the PDF writers each walk the same blocks, so the formats cannot drift.
Crawled text stays plain text in every block: each writer escapes or places it as text.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from routing.reports.briefing import change_words
from webui.briefing import charts


@dataclass
class Heading:
    text: str
    level: int = 2
    kind: str = "heading"


@dataclass
class Paragraph:
    text: str
    style: str = ""  # "" / "summary" / "risk" / "muted"
    kind: str = "paragraph"


@dataclass
class Bullets:
    items: list[str]
    kind: str = "bullets"


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    widths: list[float] = field(default_factory=list)  # relative column widths
    kind: str = "table"


@dataclass
class Chart:
    png: bytes
    caption: str
    kind: str = "chart"

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode()


Block = Heading | Paragraph | Bullets | Table | Chart


@dataclass
class Document:
    title: str
    subtitle: str
    meta: list[str]
    blocks: list[Block]
    kind: str  # daily / weekly / event

    def headings(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Heading)]


NUMERALS = "一二三四五六七八九十"


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def _names(values: list[str]) -> str:
    return "、".join(values) or "—"


class _Sections:
    """Numbers the headings 一、二、三 … as a government document does."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.n = 0

    def section(self, text: str) -> None:
        self.blocks.append(Heading(f"{NUMERALS[self.n]}、{text}"))
        self.n += 1

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


def period_document(fig: Mapping[str, Any], *, home: str, issuer: str) -> Document:
    vol, sent = fig["volume"], fig["sentiment"]
    doc = _Sections()
    doc.section("总体情况")
    # the summary ends with the risk line: shown apart, in red
    doc.add(Paragraph(fig["summary_body"], "summary"), Paragraph(fig["risk"]["text"], "risk"))

    doc.section("信息量及变化")
    doc.add(Paragraph(f"本期监测到相关信息 {vol['posts']} 条，上期 {vol['previous_posts']} 条，"
                      f"{change_words(vol['change'])}；涉及事件 {fig['active_events']} 个，其中新出现 "
                      f"{fig['new_events']} 个。"))
    if vol["posts"]:
        unit = "按小时" if fig["kind"] == "daily" else "按日"
        doc.add(Chart(charts.line_chart(vol["curve"]), f"图1 信息量走势（{unit}）"))
    opened = "，".join(f"{r['name']} {r['cases']} 件" for r in fig["cases_opened"])
    doc.add(Paragraph(f"本期新立预警案件：{opened or '无'}。"))
    if vol["by_source_kind"]:
        doc.add(Table(["来源类型", "信息量（条）", "占比"],
                      [[r["name"], str(r["posts"]), _pct(r["posts"] / vol["posts"])]
                       for r in vol["by_source_kind"]], [3, 2, 2]))

    doc.section("重点舆情事件")
    if fig["events"]:
        doc.add(Table(["序号", "事件", "级别", "领域", "属地", "主办单位", "本期信息", "状态"],
                      [[str(i), e["title"], e["severity_label"], e["topic"], _names(e["places"]),
                        _names(e["lead_units"]), str(e["posts"]),
                        e["state"] + ("（超时）" if e["overdue"] else "")]
                       for i, e in enumerate(fig["events"], 1)],
                      [1.5, 6, 3, 2.5, 2.5, 3, 2, 2.5]))
    else:
        doc.add(Paragraph("本期无相关舆情事件。", "muted"))

    doc.section("情感倾向与领域分布")
    counts = "，".join(f"{c['name']} {c['posts']} 条" for c in sent["counts"])
    doc.add(Paragraph(f"情感倾向：{counts}；负面信息占比 {_pct(sent['negative_share'])}"
                      f"（上期 {_pct(sent['previous_negative_share'])}）。"))
    if fig["topics"]:
        doc.add(Chart(charts.bar_chart([(t["name"], t["posts"]) for t in fig["topics"]]),
                      "图2 领域分布"))
        doc.add(Table(["领域", "本期（条）", "上期（条）", "环比"],
                      [[t["name"], str(t["posts"]), str(t["previous"]), _pct(t["change"])]
                       for t in fig["topics"]], [3, 2, 2, 2]))
    if fig["places"]:
        doc.add(Paragraph("属地分布：" + "，".join(f"{p['name']} {p['posts']} 条"
                                                 for p in fig["places"]) + "。"))

    doc.section("回应处置情况")
    resp = fig.get("response")
    if resp:
        total = resp["total"]
        doc.add(Paragraph(
            f"按时签收率 {_pct(total.get('sign_on_time_rate'))}，按时回应率 "
            f"{_pct(total.get('answer_on_time_rate'))}，按时办结率 "
            f"{_pct(total.get('close_on_time_rate'))}；当前超时 {total.get('overdue_now', 0)} 件。"))
        if resp["flagged"]:
            limit = _pct(resp.get("threshold")) if resp.get("threshold") is not None else "标准"
            doc.add(Paragraph(f"按时率低于 {limit} 的单位：", "risk"),
                    Table(["单位", "承办角色", "按时签收率", "按时回应率", "按时办结率"],
                          [[str(u.get("name") or u.get("unit")), _role(u.get("role")),
                            _pct(u.get("sign_on_time_rate")), _pct(u.get("answer_on_time_rate")),
                            _pct(u.get("close_on_time_rate"))] for u in resp["flagged"]],
                          [4, 2, 2, 2, 2]))
        else:
            doc.add(Paragraph("各承办单位按时率均达到标准。", "muted"))
    else:
        doc.add(Paragraph("本期无回应考核数据。", "muted"))
    if fig["overdue_cases"]:
        doc.add(Paragraph("超时未办结案件："),
                Table(["案件", "级别", "主办单位", "状态", "回应时限"],
                      [[c["title"], c["severity_label"], _names(c["lead_units"]), c["state"],
                        c["due_answer_at"]] for c in fig["overdue_cases"]], [6, 3, 3, 2, 3]))

    doc.section("重点回应")
    if fig["replies"]:
        doc.add(Bullets([f"【{r['kind']}】{r['unit']}就「{r['title'][:30]}」回应"
                         + (f"（{r['channel']}，{r['at']}）" if r["channel"] else f"（{r['at']}）")
                         + f"：{r['text']}" for r in fig["replies"]]))
    else:
        doc.add(Paragraph("本期无公开回应。", "muted"))

    doc.section("下步研判")
    doc.add(Bullets(list(fig["outlook"])))
    period = fig["period"]
    return Document(title=f"{home}{fig['title']}", subtitle=period["label"],
                    meta=[f"编制：{issuer}", f"生成时间：{fig['generated_at']}",
                          f"对比期：{fig['previous']['label']}"],
                    blocks=doc.blocks, kind=fig["kind"])


def _role(role: Any) -> str:
    return {"lead": "主办", "co": "协办"}.get(str(role or ""), str(role or "—"))


def _history_note(h: Mapping[str, Any]) -> str:
    parts = [h["note"].rstrip("。；"), h["text"].rstrip("。；"),
             f"渠道：{h['channel']}" if h["channel"] else ""]
    return "；".join(p for p in parts if p) or "—"


def event_document(fig: Mapping[str, Any], *, home: str, issuer: str) -> Document:
    ev, spread = fig["event"], fig["spread"]
    doc = _Sections()
    doc.section("事件概况")
    lines = [f"事件：{ev['title']}", f"级别：{ev['severity_label']}；领域：{ev['topic']}；"
             f"属地：{_names(ev['places'])}",
             f"首次发现：{ev['first_seen_at']}；最近更新：{ev['last_seen_at']}；"
             f"相关信息 {ev['posts']} 条，来源 {ev['sources']} 个"]
    if ev["keywords"]:
        lines.append("关键词：" + "、".join(ev["keywords"]))
    case = fig["case"]
    if case:
        lines.append(f"处置状态：{case['state']}；主办单位：{_names(case['lead_units'])}；"
                     f"协办单位：{_names(case['co_units'])}"
                     + ("；已督办" if case["supervised"] else "")
                     + (f"；延期 {case['extensions']} 次" if case["extensions"] else ""))
    else:
        lines.append("处置状态：未立案")
    doc.add(*[Paragraph(line) for line in lines])
    if ev["summary"]:
        doc.add(Paragraph(f"事件摘要：{ev['summary']}", "summary"))

    doc.section("传播态势")
    first = fig["first_post"]
    if first:
        doc.add(Paragraph(f"首发：{first['at']} {first['source']}"
                          + (f"（{first['author']}）" if first["author"] else "")
                          + f"发布「{first['title']}」。"))
    if spread["curve"]:
        unit = "按小时" if spread["unit"] == "hour" else "按日"
        doc.add(Chart(charts.line_chart(spread["curve"]), f"图1 传播走势（{unit}）"))
    if spread["peak"]:
        doc.add(Paragraph(f"传播高峰：{spread['peak']['label']}，{spread['peak']['posts']} 条。"))
    if spread["sources"]:
        doc.add(Table(["来源", "类型", "信息量", "互动量", "首次发布"],
                      [[s["name"], s["kind"], str(s["posts"]), str(s["reach"]), s["first_at"]]
                       for s in spread["sources"]], [4, 2, 2, 2, 3]))
    doc.add(Paragraph("情感倾向：" + "，".join(f"{s['name']} {s['posts']} 条"
                                              for s in spread["sentiment"]) + "。"))

    doc.section("事件时间线")
    if fig["timeline"]:
        doc.add(Table(["时间", "节点"], [[t["at"], t["text"]] for t in fig["timeline"]], [2, 7]))
    doc.section("处置过程")
    if fig["history"]:
        doc.add(Table(["时间", "操作", "操作人", "说明"],
                      [[h["at"], h["action"], h["actor"],
                        _history_note(h)]
                       for h in fig["history"]], [3, 2, 2, 6]))
    else:
        doc.add(Paragraph("尚无处置记录。", "muted"))
    doc.section("时限执行")
    if fig["deadlines"]:
        doc.add(Table(["环节", "时限", "完成时间", "结果"],
                      [[d["label"], d["due_at"], d["done_at"], d["status"]]
                       for d in fig["deadlines"]], [2, 3, 3, 2]))
    else:
        doc.add(Paragraph("未设定处置时限。", "muted"))
    return Document(title=f"{home}舆情专报", subtitle=ev["title"],
                    meta=[f"编制：{issuer}", f"生成时间：{fig['generated_at']}"],
                    blocks=doc.blocks, kind="event")

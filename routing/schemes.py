"""Monitoring schemes (监测方案): one definition shape for the console and ``schemes.yaml``.

A scheme is a saved search (the search desk's syntax and parser,
``store.search.query``: words AND, ``-word`` NOT, ``A | B`` / ``OR``, ``"a phrase"``,
substring over normalized text) plus filters, subscribers and actions. Both the
console form and the YAML loader call ``validate_scheme`` so they give the same Chinese
messages for the same mistake. Matching and its effects live in ``routing.scheme_alerts``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from store.search.query import QuerySyntaxError, parse
from store.validation import error_message, location

# -- the query -------------------------------------------------------------------------------
# One parser for search and schemes: store.search.query (``parse`` raises QuerySyntaxError
# with a Chinese message; ``ParsedQuery.matches`` takes text folded by ``fold``).

# -- the definition --------------------------------------------------------------------------

SEVERITY_LEVELS = (1, 2, 3, 4)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Subscriber(_Strict):
    """Who gets this scheme's pushes: a channel (by its name in channels.yaml) and an address
    on it — a robot URL (empty: the channel's own robot), a mailbox, or for the console
    ``monitors`` / a unit code."""

    channel: str = Field(min_length=1, max_length=50)
    to: str = Field("", max_length=500)


class Alert(_Strict):
    mode: Literal["off", "each", "window"] = "off"
    count: int = Field(5, ge=2, le=10_000)  # N of "N posts within T minutes"
    minutes: int = Field(60, ge=1, le=1440)  # T


class SchemeSpec(_Strict):
    name: str = Field(min_length=1, max_length=100)
    owner: str = Field("", max_length=100)
    enabled: bool = True
    query: str = Field(min_length=1, max_length=500)
    sources: list[str] = []
    topics: list[str] = []
    places: list[str] = []
    severities: list[int] = []  # empty: any level, and posts below IV too
    tag: bool = True
    alert: Alert = Alert()
    subscribers: list[Subscriber] = []
    open_case: bool = False  # open a case for matches that would not cross the threshold
    case_severity: int = Field(4, ge=1, le=4)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("名称不能为空")
        return value.strip()

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        try:
            parse(value)
        except QuerySyntaxError as exc:
            raise ValueError(str(exc)) from exc
        return value.strip()

    @field_validator("severities")
    @classmethod
    def _levels(cls, value: list[int]) -> list[int]:
        if any(v not in SEVERITY_LEVELS for v in value):
            raise ValueError("级别只能是 1–4（I–IV 级）")
        return sorted(set(value))


class SchemeEntry(SchemeSpec):
    """A scheme in ``schemes.yaml``: the same definition plus its stable key."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Known:
    """What a scheme may refer to (from the settings): checked by ``validate_scheme``."""

    sources: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()
    channels: Mapping[str, str] = field(default_factory=dict)  # name -> kind


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}：{self.reason}" if self.path else self.reason


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _subscriber_problem(sub: Subscriber, known: Known) -> str | None:
    kind = known.channels.get(sub.channel)
    if kind is None:
        return f"未知的通知渠道 {sub.channel!r}（见 channels.yaml）"
    to = sub.to.strip()
    if kind in ("wecom", "dingtalk", "webhook"):
        if to and not to.startswith(("http://", "https://")):
            return "机器人地址应为 http:// 或 https:// 开头的链接，留空则用渠道自带的机器人"
    elif kind == "email":
        if not _EMAIL.match(to):
            return "邮件订阅需要有效的邮箱地址"
    elif kind == "console":
        if to and to != "monitors" and to not in known.units:
            return f"控制台订阅应为 monitors（监测人员）或单位代码，未知的单位 {to!r}"
    elif kind == "sms" and not re.fullmatch(r"\+?\d{5,20}", to):
        return "短信订阅需要手机号码"
    return None


def check_references(spec: SchemeSpec, known: Known) -> list[Problem]:
    problems: list[Problem] = []
    for name, values, pool, label in (("sources", spec.sources, known.sources, "信息源"),
                                      ("topics", spec.topics, known.topics, "领域"),
                                      ("places", spec.places, known.places, "辖区代码")):
        for i, value in enumerate(values):
            if value not in pool:
                problems.append(Problem(f"{name}[{i}]", f"未知的{label} {value!r}"))
    for i, sub in enumerate(spec.subscribers):
        reason = _subscriber_problem(sub, known)
        if reason:
            problems.append(Problem(f"subscribers[{i}]", reason))
    if spec.alert.mode != "off" and not spec.subscribers:
        problems.append(Problem("subscribers", "开启推送时至少需要一个订阅渠道"))
    return problems


def validate_scheme(data: Mapping[str, Any], known: Known, *, entry: bool = False
                    ) -> tuple[SchemeSpec | None, list[Problem]]:
    """The one validation for console and YAML: (spec, []) or (None, problems in Chinese)."""
    model = SchemeEntry if entry else SchemeSpec
    try:
        spec = model.model_validate(dict(data))
    except ValidationError as exc:
        return None, [Problem(location(e["loc"]), error_message(e))
                      for e in exc.errors(include_url=False)]
    problems = check_references(spec, known)
    return (None, problems) if problems else (spec, [])


FIELD_LABELS = {"name": "名称", "owner": "负责人", "query": "检索式", "sources": "信息源",
                "topics": "领域", "places": "地区", "severities": "级别", "alert": "推送",
                "alert.count": "条数 N", "alert.minutes": "时间窗 T（分钟）",
                "alert.mode": "推送方式", "subscribers": "订阅", "case_severity": "立案级别",
                "key": "标识"}


def label_of(path: str) -> str:
    """The form's label for a problem path (``subscribers[1]`` -> ``订阅[2]``)."""
    head, _, rest = path.partition("[")
    name = FIELD_LABELS.get(head, head)
    if rest:
        index = rest.split("]")[0]
        return f"{name}第 {int(index) + 1} 项" if index.isdigit() else name
    return name

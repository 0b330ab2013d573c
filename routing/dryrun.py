"""Dry run of a rule change: the same posts decided under the current and the edited rules.

Pure: the caller supplies the posts' facts and both configurations (the admin desk reads the
last posts from the database and builds the configurations from settings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from routing.config import RoutingConfig
from routing.rules import Decision, Facts, decide

# what a decision is compared on, with the label the console shows
COMPARED = {"lead": "主办单位", "co": "协办单位", "rule": "适用规则", "triage": "待研判",
            "outside": "属地外通报", "auto_dispatch": "自动派发", "deadlines": "时限"}


def signature(decision: Decision) -> dict[str, Any]:
    """The parts of a decision a rule change can move (unit codes, rule, limits)."""
    return {
        "lead": decision.lead.code if decision.lead else None,
        "co": sorted(u.code for u in decision.co),
        "rule": decision.rule, "triage": decision.triage, "outside": decision.outside,
        "auto_dispatch": decision.auto_dispatch,
        "deadlines": {k: v.isoformat() if v else None
                      for k, v in sorted(decision.deadlines.items())},
    }


@dataclass(frozen=True)
class ChangedDecision:
    post_id: str
    title: str
    before: Decision
    after: Decision
    fields: tuple[str, ...]  # keys of COMPARED that differ


@dataclass
class DryRun:
    total: int = 0
    changed: list[ChangedDecision] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (post id, reason)


def compare(items: Sequence[tuple[str, str, Facts, datetime]], current: RoutingConfig,
            edited: RoutingConfig) -> DryRun:
    """Decide every (post id, title, facts, start) under both configurations."""
    out = DryRun()
    for post_id, title, facts, start in items:
        out.total += 1
        try:
            before, after = decide(facts, current, start), decide(facts, edited, start)
        except Exception as exc:  # a malformed stored post must not hide the others
            out.errors.append((post_id, f"{type(exc).__name__}: {exc}"))
            continue
        a, b = signature(before), signature(after)
        differ = tuple(k for k in COMPARED if a[k] != b[k])
        if differ:
            out.changed.append(ChangedDecision(post_id, title, before, after, differ))
    return out

"""The case workflow (routing.workflow), imported on first use, plus the labels the pages show.

The console runs without the workflow module (read-only pages); actions need it.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from functools import cache
from types import ModuleType
from typing import Any

from store import CaseState
from webui.accounts import Viewer

STATE_LABELS = {CaseState.NEW: "待研判", CaseState.DISPATCHED: "待签收",
                CaseState.ACKNOWLEDGED: "处置中", CaseState.RESPONDED: "已回应",
                CaseState.CLOSED: "已办结", CaseState.DISMISSED: "不予处置",
                CaseState.RETURNED: "已退回", CaseState.MERGED: "已并案"}
ACTION_LABELS = {"dispatch": "派发", "sign": "签收", "return": "退回", "reassign": "转办",
                 "request_extension": "申请延期", "approve_extension": "批准延期",
                 "deny_extension": "驳回延期", "respond": "回应", "close": "办结",
                 "reopen": "重办", "supervise": "督办", "dismiss": "不予处置",
                 "correct": "更正研判", "create": "立案", "update": "更新", "escalate": "升级",
                 "remind": "提醒", "overdue": "超时", "withdraw": "撤回", "merge": "并案",
                 "split": "拆分", "merge_in": "并入案件", "split_out": "拆出案件"}
SEVERITY_LABELS = {1: "I 级 特别重大", 2: "II 级 重大", 3: "III 级 较大", 4: "IV 级 一般"}
SEVERITY_COLORS = {1: "red", 2: "orange", 3: "yellow", 4: "blue"}


@cache
def workflow() -> ModuleType | None:
    try:
        return importlib.import_module("routing.workflow")
    except ModuleNotFoundError as exc:
        if exc.name not in ("routing.workflow", "routing"):
            raise  # a missing dependency inside the workflow is a real error
        return None


def actor_for(viewer: Viewer) -> Any:
    wf = workflow()
    if wf is None:
        raise RuntimeError("workflow module not available")
    return wf.Actor(user_id=viewer.user_id, role=viewer.role, unit_id=viewer.unit_id,
                    name=viewer.name)


def state_label(state: str) -> str:
    wf = workflow()
    labels: dict[Any, str] = getattr(wf, "STATE_LABELS", None) or STATE_LABELS
    return labels.get(state, STATE_LABELS.get(state, state))  # type: ignore[call-overload]


def action_label(action: str) -> str:
    wf = workflow()
    labels: dict[Any, str] = (getattr(wf, "HISTORY_LABELS", None)
                              or getattr(wf, "ACTION_LABELS", None) or {})
    return labels.get(action) or ACTION_LABELS.get(action, action)


def allowed_actions(case: Any, viewer: Viewer) -> list[str]:
    wf = workflow()
    if wf is None:
        return []
    return [str(a) for a in wf.allowed_actions(case, actor_for(viewer))]


def perform(db: Any, case_id: int, action: str, viewer: Viewer, *, note: str = "",
            data: dict[str, Any] | None = None, expected_version: int | None = None,
            now: datetime | None = None) -> Any:
    wf = workflow()
    if wf is None:
        raise WorkflowUnavailable()
    try:
        act = wf.Action(action)
    except ValueError:
        raise UnknownAction(action) from None
    return wf.perform(db, case_id, act, actor_for(viewer), note=note, data=data,
                      expected_version=expected_version, now=now)


class WorkflowUnavailable(Exception):
    """The workflow module is not installed: the console is read-only."""


class UnknownAction(Exception):
    def __init__(self, action: str):
        super().__init__(f"未知的操作：{action}")


def error_status(exc: Exception) -> int:
    """HTTP status for a workflow error, by its class name in the workflow's hierarchy."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "NotPermitted" in names:
        return 403
    if "NotFound" in names:
        return 404
    if "InvalidTransition" in names or "Conflict" in names:
        return 409
    return 400

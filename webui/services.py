"""What the console's buttons do: workflow actions, bulk actions and analysis corrections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select, update

from store import Case, CaseAction, Database, Feedback, Jurisdiction, Unit, queue_values, utcnow
from webui.accounts import Viewer
from webui.queries import get_case
from webui.workflow import perform

MAX_VERSION = MAX_ID = 2**63 - 1  # what a 64-bit column holds; beyond it is a 400, not a 500


class NotFound(Exception):
    """The case does not exist or the viewer may not see it (the same answer for both)."""


class ActionInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    note: str = Field("", max_length=2000)
    lead: str = Field("", max_length=64)
    co: list[str] = Field(default_factory=list, max_length=30)
    hours: float | None = Field(None, gt=0, le=24 * 30)
    text: str = Field("", max_length=5000)
    channel: str = Field("", max_length=100)
    link: str = Field("", max_length=1000)
    expected_version: int | None = Field(None, ge=0, le=MAX_VERSION)
    into: int | None = Field(None, ge=1, le=MAX_ID, description="并案：并入的目标案件编号")

    @field_validator("link")
    @classmethod
    def _http_only(cls, value: str) -> str:
        # Stored links are shown as hrefs: javascript: and friends must never get in.
        if value and not value.lower().startswith(("http://", "https://")):
            raise ValueError("链接必须以 http:// 或 https:// 开头")
        return value

    @classmethod
    def from_form(cls, form: Any) -> ActionInput:
        data = {k: v for k, v in form.items() if v != "" and k != "co"}
        data["co"] = [v for v in form.getlist("co") if v and v != form.get("lead")]
        return cls.model_validate(data)

    def data_for(self, action: str) -> dict[str, Any]:
        if action in ("dispatch", "reassign"):
            return {"lead": self.lead, "co": self.co}
        if action == "request_extension":
            return {"hours": self.hours}
        if action == "respond":
            return {"text": self.text, "channel": self.channel, "link": self.link}
        if action == "merge":
            return {"into": self.into} if self.into is not None else {}
        return {}


def run_action(db: Database, viewer: Viewer, case_id: int, action: str,
               given: ActionInput, now: datetime | None = None) -> CaseAction:
    """``now``: the app's clock (the views pass it, so deadlines and the audit row agree
    with what the pages show); None is the wall clock."""
    with db.session() as s:
        if get_case(s, viewer, case_id) is None:
            raise NotFound()
    return perform(db, case_id, action, viewer, note=given.note, data=given.data_for(action),
                   expected_version=given.expected_version, now=now)


def run_bulk(db: Database, viewer: Viewer, ids: list[int], action: str, given: ActionInput,
             now: datetime | None = None) -> dict[str, Any]:
    """Apply one action to many cases; each is its own transaction, failures are reported.
    ``now``: the app's clock, as for a single action."""
    done, failed = [], []
    for case_id in ids:
        try:
            run_action(db, viewer, case_id, action,
                       given.model_copy(update={"expected_version": None}), now)
            done.append(case_id)
        except NotFound:
            failed.append({"id": case_id, "error": "工单不存在或无权查看"})
        except Exception as exc:
            if type(exc).__name__ not in _WORKFLOW_ERRORS:
                raise
            failed.append({"id": case_id, "error": str(exc)})
    return {"done": done, "failed": failed}


_WORKFLOW_ERRORS = {"WorkflowError", "InvalidTransition", "NotPermitted", "Conflict",
                    "BadRequest", "NotFound"}


class CorrectionInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    topic: str = Field("", max_length=50)
    severity: int | None = Field(None, ge=1, le=4)
    place: str = Field("", pattern=r"^(\d{6}(\d{3}(\d{3})?)?)?$")
    unit: str = Field("", max_length=64)
    note: str = Field("", max_length=2000)
    expected_version: int | None = Field(None, ge=0, le=MAX_VERSION)

    @classmethod
    def from_form(cls, form: Any) -> CorrectionInput:
        return cls.model_validate({k: v for k, v in form.items() if v != ""})


class CorrectionError(Exception):
    """A refused correction; the message is Chinese."""


def correct(db: Database, viewer: Viewer, case_id: int, given: CorrectionInput,
            topics: dict[str, str], now: datetime | None = None) -> list[Feedback]:
    """Correct topic, severity, place or the proposed unit; each change is training feedback.

    Topic, severity and place change the case itself (with an audit row, under the case's
    version guard); a unit correction is feedback only: moving the case is 转办 (reassign).
    """
    now = now or utcnow()  # the views pass the app's clock
    with db.session() as s:
        c = get_case(s, viewer, case_id)
        if c is None:
            raise NotFound()
        if given.expected_version is not None and given.expected_version != c.version:
            raise CorrectionError("工单已被他人修改，请刷新后重试")
        if given.topic and given.topic not in topics:
            raise CorrectionError(f"未知的领域：{given.topic}")
        if given.place and s.get(Jurisdiction, given.place) is None:
            raise CorrectionError(f"未知的地区代码：{given.place}")
        if given.unit and s.scalar(select(Unit.id).where(Unit.code == given.unit)) is None:
            raise CorrectionError(f"未知的单位：{given.unit}")
        lead = next((a.unit.code for a in c.assignments if a.role == "lead" and a.active), None)
        changes = [(field, old, new) for field, old, new in (
            ("topic", c.topic, given.topic), ("severity", c.severity, given.severity),
            ("place", c.place_code, given.place), ("unit", lead, given.unit))
            if new not in ("", None) and str(new) != str(old or "")]
        if not changes:
            raise CorrectionError("没有需要更正的内容")
        post_id = c.event.first_post_id if c.event else None
        rows = [Feedback(post_id=post_id, case_id=c.id, field=field,
                         old_value=None if old is None else str(old), new_value=str(new),
                         user_id=viewer.user_id, at=now) for field, old, new in changes]
        s.add_all(rows)
        values: dict[str, Any] = {}
        for field, _, new in changes:
            if field == "topic":
                values["topic"] = new
            elif field == "severity":
                values["severity"] = new
                values["queue_severity"] = queue_values(c.state, new, None, None, None)[
                    "queue_severity"]  # the queue's stored sort key follows
            elif field == "place":
                values["place_code"] = new
        claimed = s.execute(update(Case).where(Case.id == c.id, Case.version == c.version)
                            .values(version=c.version + 1, updated_at=now, **values))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise CorrectionError("工单已被他人修改，请刷新后重试")
        s.add(CaseAction(case_id=c.id, action="correct", rule="CORRECT-1",
                         actor_user_id=viewer.user_id, actor_unit_id=viewer.unit_id,
                         actor_name=viewer.name, from_state=c.state, to_state=c.state,
                         note=given.note,
                         data={f: {"old": o, "new": n} for f, o, n in changes}, at=now))
        s.flush()
        return rows

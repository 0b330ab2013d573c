"""Units by code inside one transaction: read once per routing batch, not per case."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import Unit

UNITS_KEY = "yuqing.units_by_code"  # session.info: the units this transaction has read


def preload_units(session: Session) -> None:
    """Read every unit once for this session (a routing batch): the look-ups by code below
    and ``session.get(Unit, id)`` while rendering notices then cost no query. The session is
    one transaction, so a unit edited at the admin desk is read fresh by the next batch."""
    session.info[UNITS_KEY] = {u.code: u for u in session.scalars(select(Unit))}


def unit_by_code(session: Session, code: str) -> Unit | None:
    known: dict[str, Unit] | None = session.info.get(UNITS_KEY)
    if known is not None:
        return known.get(code)
    return session.scalar(select(Unit).where(Unit.code == code))

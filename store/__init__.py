"""Remember: database models, sessions, migrations and the search index."""

from store.db import Database
from store.models import (
    Assignment,
    AssignmentRole,
    Base,
    Case,
    CaseAction,
    CaseState,
    Delivery,
    Event,
    Feedback,
    Jurisdiction,
    Notification,
    Post,
    PostPlace,
    Role,
    Source,
    SourceRun,
    Unit,
    User,
    utcnow,
)

__all__ = [
    "Assignment", "AssignmentRole", "Base", "Case", "CaseAction", "CaseState", "Database",
    "Delivery", "Event", "Feedback", "Jurisdiction", "Notification", "Post", "PostPlace", "Role",
    "Source", "SourceRun", "Unit", "User", "utcnow",
]

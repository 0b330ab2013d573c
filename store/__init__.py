"""Remember: database models, sessions, migrations and the search index."""

from store.db import Database
from store.models import (
    Assignment,
    AssignmentRole,
    Base,
    Case,
    CaseAction,
    CaseState,
    ChannelState,
    ConfigChange,
    Delivery,
    Event,
    Feedback,
    Jurisdiction,
    LoginThrottle,
    Notice,
    Notification,
    Post,
    PostPlace,
    Role,
    Source,
    SourceRun,
    Unit,
    User,
    UserSession,
    utcnow,
)

__all__ = [
    "Assignment", "AssignmentRole", "Base", "Case", "CaseAction", "CaseState", "ChannelState", "ConfigChange",
    "Database", "Delivery", "Event", "Feedback", "Jurisdiction", "LoginThrottle", "Notice", "Notification", "Post",
    "PostPlace", "Role", "Source", "SourceRun", "Unit", "User", "UserSession", "utcnow",
]

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
    JobMark,
    Jurisdiction,
    LoginThrottle,
    Notice,
    NoticeRead,
    Notification,
    Post,
    PostPlace,
    PostTag,
    Role,
    Scheme,
    Source,
    SourceRun,
    Unit,
    User,
    UserSession,
    utcnow,
)
from store.queue_order import queue_values  # registers the sort keys' flush hook

__all__ = [
    "Assignment", "AssignmentRole", "Base", "Case", "CaseAction", "CaseState", "ChannelState", "ConfigChange",
    "Database", "Delivery", "Event", "Feedback", "JobMark", "Jurisdiction", "LoginThrottle", "Notice", "NoticeRead", "Notification", "Post",
    "PostPlace", "PostTag", "Role", "Scheme", "Source", "SourceRun", "Unit", "User", "UserSession",
    "queue_values", "utcnow",
]

"""The item every collector yields; ``yuqing.ingest`` takes these (or dicts of the same keys).

Kept as a plain dataclass so Scrapy's item adapter, the importers and the tests
all share one shape, and so ``crawlers`` imports nothing else of ours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class PostItem:
    source: str  # source key from config/sources.yaml (or "import:<name>")
    text: str  # body text, tags stripped, paragraph breaks kept as "\n"
    external_id: str = ""  # the site's own id; empty when the site has none
    url: str = ""  # canonical URL (tracking parameters and fragment dropped)
    title: str = ""
    author: str = ""
    author_followers: int = 0
    published_at: datetime | None = None  # timezone-aware (Asia/Shanghai when the page gave none)
    collected_at: datetime | None = None
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    source_kind: str = ""  # news / social / forum / board / hotline / import
    place: str = ""  # place text or code the source gives for the item
    # Official reply on a message board (留言板) or a hotline record; feeds response reports.
    reply_text: str = ""
    reply_at: datetime | None = None
    reply_unit: str = ""
    # The site or platform an export names per row (来源: 新浪微博); free text, not a source key.
    site: str = ""
    truncated: bool = False  # the text was cut to the source's max_text_chars
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

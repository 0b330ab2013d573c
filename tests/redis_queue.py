"""The shared crawl queue's Redis for tests: its URL, and the ``prefix`` fixture (registered
in tests/conftest.py) giving each test keys of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from crawlers.distributed import connect

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_prefix() -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards (never FLUSHALL)."""
    name = f"yuqing-test:{uuid.uuid4().hex[:10]}"
    yield name
    server = connect(REDIS_URL)
    keys = list(server.scan_iter(match=f"{name}:*"))
    if keys:
        server.delete(*keys)
    server.close()

"""The ``import`` kind's watched folder: which export files are new or changed since last run.

A ledger (JSON, kept in the instance folder, not the watched one, which may be a read-only
share) maps each imported file's name to its content hash, so a re-exported file with new
rows is imported again (ingest is idempotent) and an unchanged one is not.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

SUFFIXES = (".csv", ".xlsx", ".jsonl")
SETTLE_SECONDS = 5.0  # a file modified more recently may still be being copied in


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Ledger:
    def __init__(self, path: Path):
        self.path = path
        self.done: dict[str, str] = {}
        if path.is_file():
            try:
                self.done = dict(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, TypeError):
                self.done = {}  # a damaged ledger re-imports; ingest drops the duplicates

    def is_done(self, path: Path, digest: str) -> bool:
        return self.done.get(path.name) == digest

    def mark(self, path: Path, digest: str) -> None:
        self.done[path.name] = digest
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.done, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)  # atomic: a crash never leaves half a ledger


def pending_files(folder: Path, ledger: Ledger, pattern: str = "*",
                  settle: float = SETTLE_SECONDS, now: float | None = None) -> list[tuple[Path, str]]:
    """Export files in ``folder`` not yet imported in their current content, oldest first."""
    if not folder.is_dir():
        raise FileNotFoundError(f"监视的文件夹不存在：{folder}")
    now = time.time() if now is None else now
    out = []
    for path in sorted(folder.glob(pattern), key=lambda p: (p.stat().st_mtime, p.name)):
        name = path.name
        if (not path.is_file() or name.startswith((".", "~$")) or
                path.suffix.lower() not in SUFFIXES):
            continue
        if now - path.stat().st_mtime < settle:
            continue
        digest = file_hash(path)
        if not ledger.is_done(path, digest):
            out.append((path, digest))
    return out

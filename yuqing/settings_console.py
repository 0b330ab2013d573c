"""Console edits of the configuration (admin desk): where they live and how they merge.

The settings loader (yuqing/settings.py) applies them after the shipped and instance YAML;
this module holds the pieces that need nothing else of the loader.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml


def deep_merge(base: Any, override: Any) -> Any:
    # dicts merge key by key; lists and scalars from the instance replace the shipped ones
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else value
        return merged
    return override


# ---- console edits (admin desk) ------------------------------------------------------------
# Files whose records are a list: the console keeps its edits as a mapping by record key, so
# an edit merges over one record key by key instead of replacing the whole list.
KEYED_LISTS = {"units": ("units", "code"), "sources": ("sources", "key"),
               "channels": ("channels", "name"), "taxonomy": ("topics", "key")}
CONSOLE_DIR = "console"


def console_path(home: Path, name: str) -> Path:
    return home / CONSOLE_DIR / f"{name}.yaml"


def console_stamp(home: Path) -> tuple[tuple[str, int, int, int], ...]:
    """What the console files look like now (name, mtime, size): changes when one is written."""
    folder = home / CONSOLE_DIR
    if not folder.is_dir():
        return ()
    out = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            info = path.stat()
        except OSError:
            continue
        # the inode too: an atomic rewrite is a new file even within the same mtime tick
        out.append((path.name, info.st_ino, info.st_mtime_ns, info.st_size))
    return tuple(out)


def merge_console(name: str, data: dict[str, Any], edits: Mapping[str, Any]) -> dict[str, Any]:
    """Apply the console's edits of one file over the shipped + instance data.

    For a keyed list (units, sources, channels, taxonomy topics) the edits are
    ``{list: {key: {field: value}}, retired: [key, ...]}``: a known record merges key by key, an unknown one is appended, and
    a retired one leaves the list (the database keeps its row, deactivated). Other files merge
    like the instance YAML.
    """
    if name not in KEYED_LISTS:
        return deep_merge(data, dict(edits))
    list_key, id_key = KEYED_LISTS[name]
    records = list(data.get(list_key) or [])
    changed = edits.get(list_key) or {}
    retired = set(edits.get("retired") or [])
    if not isinstance(changed, dict) or not isinstance(edits.get("retired") or [], list):
        # wrong shape: let the model report it where it stands
        return {**data, list_key: changed, "retired": edits.get("retired")}
    seen = set()
    merged = []
    for record in records:
        key = record.get(id_key) if isinstance(record, dict) else None
        if key in changed and isinstance(changed[key], dict):
            record = deep_merge(record, changed[key])
            seen.add(key)
        if key not in retired:
            merged.append(record)
    for key, record in changed.items():
        if key not in seen and key not in retired:
            merged.append({id_key: key, **(record if isinstance(record, dict) else {})})
    return {**data, list_key: merged}


def read_console_file(path: Path) -> dict[str, Any]:
    """A console file's edits ({} when there is none or it holds no mapping)."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else {}


def write_console_file(path: Path, edits: Mapping[str, Any], header: str) -> None:
    """Write a console file atomically: beside the target, then renamed, so a reader sees the
    old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = header + yaml.safe_dump(dict(edits), allow_unicode=True, sort_keys=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def console_lock(home: Path) -> Iterator[None]:
    """One editor at a time across processes (several web workers share the instance)."""
    folder = home / CONSOLE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

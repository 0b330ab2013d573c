"""The admin desk's unit edits, stored as the instance's console override of units.yaml.

The console never writes the shipped or instance YAML: its edits go to
``<home>/console/units.yaml`` (``{units: {code: {changed keys}}, retired: [code]}``), merged
over them by the settings loader (``yuqing.settings.merge_console``). Every edit is validated
by loading the whole configuration with it, exactly as ``yuqing config check`` and start-up
would, so the console refuses what the YAML would refuse, with the same messages. A good edit
is written atomically, synced into the units table, recorded as a ``ConfigChange`` row and
handed to the running context, so routing uses it for the next decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store import ConfigChange
from yuqing.bootstrap import sync_reference_data
from yuqing.context import AppContext
from yuqing.settings import (
    ConfigError,
    Place,
    Settings,
    console_path,
    reload_settings,
)
from yuqing.settings_console import console_lock, read_console_file, write_console_file

HEADER = ("# 控制台（系统管理 → 单位）写入的单位修改，按单位代码逐项覆盖 units.yaml；\n"
          "# retired 列出已撤销的单位。可审阅、可纳入版本管理；手工修改后请运行 yuqing config check。\n")


@dataclass(frozen=True)
class Problem:
    """One refusal, as the loader words it: the key path (units[3].duties[0]) and the reason."""

    path: str
    reason: str
    file: str = ""  # the config file's name (routing.yaml) when the problem is not in units


class UnitDesk:
    """What the console's unit pages need; ``webui`` sees only these methods."""

    def __init__(self, ctx: AppContext):
        self.ctx = ctx

    # ---- reading ---------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.ctx.fresh_settings()

    def units(self) -> list[dict[str, Any]]:
        return [u.model_dump(mode="json") for u in self.settings.units.units]

    def unit(self, code: str) -> dict[str, Any] | None:
        found = self.settings.units.get(code)
        return found.model_dump(mode="json") if found else None

    def retired(self) -> list[str]:
        return list(self._edits().get("retired") or [])

    def topics(self) -> dict[str, str]:
        return {t.key: t.name for t in self.settings.taxonomy.topics}

    def places(self) -> list[dict[str, Any]]:
        """Every place a unit may answer for: home, its streets and villages, parents, foreign."""
        j = self.settings.jurisdictions
        out: list[dict[str, Any]] = []

        def walk(place: Place, parent: str | None) -> None:
            out.append({"code": place.code, "name": place.name, "level": place.level,
                        "parent": parent})
            for child in place.children:
                walk(child, place.code)

        walk(j.home, None)
        out += [{"code": p.code, "name": p.name, "level": p.level, "parent": None}
                for p in j.home.parents]
        out += [{"code": f.code, "name": f.name, "level": "foreign", "parent": None}
                for f in ([j.upper] if j.upper else []) + list(j.neighbours)]
        return out

    def home_code(self) -> str:
        return self.settings.jurisdictions.home.code

    # ---- writing ---------------------------------------------------------------------------

    def save(self, code: str, values: dict[str, Any], *, create: bool,
             actor: tuple[int | None, str]) -> list[Problem]:
        """Create or edit one unit from ``values`` shaped like a units.yaml record."""
        with self._locked():
            edits = self._edits()
            current = self.unit(code)
            if create and (current is not None or code in (edits.get("retired") or [])):
                return [Problem("units", f"单位代码 {code!r} 重复定义")]
            if not create and current is None:
                return [Problem("units", f"未知的单位 {code!r}")]
            base = self._base_units().get(code) or {}
            changed = {k: v for k, v in values.items() if k != "code" and base.get(k) != v}
            if base and not changed:
                edits.get("units", {}).pop(code, None)
            else:
                edits.setdefault("units", {})[code] = changed
            problems = self._apply(edits)
            if problems:
                return problems
            self._audit(actor, code, "create" if create else "edit", current or {},
                        self.unit(code) or {})
            return []

    def retire(self, code: str, actor: tuple[int | None, str]) -> list[Problem]:
        """Take the unit out of the configuration; its row stays, deactivated (history)."""
        with self._locked():
            edits = self._edits()
            current = self.unit(code)
            if current is None:
                return [Problem("units", f"未知的单位 {code!r}")]
            edits["retired"] = sorted({*(edits.get("retired") or []), code})
            problems = self._apply(edits)
            if not problems:
                self._audit(actor, code, "retire", current, {})
            return problems

    def restore(self, code: str, actor: tuple[int | None, str]) -> list[Problem]:
        with self._locked():
            edits = self._edits()
            if code not in (edits.get("retired") or []):
                return [Problem("retired", f"单位 {code!r} 未被撤销")]
            edits["retired"] = [c for c in edits["retired"] if c != code]
            problems = self._apply(edits)
            if not problems:
                self._audit(actor, code, "restore", {}, self.unit(code) or {})
            return problems

    # ---- internals -------------------------------------------------------------------------

    def _path(self) -> Any:
        return console_path(self.settings.home, "units")

    def _edits(self) -> dict[str, Any]:
        return read_console_file(self._path())

    def _base_units(self) -> dict[str, dict[str, Any]]:
        """Shipped + instance units.yaml, without the console's edits."""
        base = reload_settings(self.settings, console={"units": {}})
        return {u.code: u.model_dump(mode="json") for u in base.units.units}

    def _apply(self, edits: dict[str, Any]) -> list[Problem]:
        edits = {k: v for k, v in edits.items() if v}
        try:
            settings = reload_settings(self.settings, console={"units": edits})
        except ConfigError as exc:
            return [Problem(p.path, p.reason, Path(p.file).name) for p in exc.problems]
        self._write(edits)
        sync_reference_data(self.ctx.db, settings)
        self.ctx.use_settings(settings)
        return []

    def _write(self, edits: dict[str, Any]) -> None:
        write_console_file(self._path(), edits, HEADER)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with console_lock(self.settings.home):
            self.ctx.fresh_settings()  # another process may have written meanwhile
            yield

    def _audit(self, actor: tuple[int | None, str], code: str, action: str,
               before: dict[str, Any], after: dict[str, Any]) -> None:
        with self.ctx.db.session() as s:
            s.add(ConfigChange(at=self.ctx.now(), user_id=actor[0], username=actor[1],
                               file="units", key=code, action=action, before=before,
                               after=after))

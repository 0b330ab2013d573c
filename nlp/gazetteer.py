"""The national gazetteer: administrative divisions with codes, parents and name forms.

Data: ``nlp/data/gazetteer/divisions.tsv.gz`` (province to township/street, GB/T 2260 six-digit
codes and nine-digit township codes, as published by the Ministry of Civil Affairs for
2025-12-31; rebuilt by ``python -m nlp.gazetteer_build``). The home jurisdiction's own streets,
villages and aliases come in as plain data (the dict shape of ``config/jurisdictions.yaml``
``home``) and take precedence over the national list.

Nothing is read at import time: ``load_divisions()`` reads the file once per process.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).parent / "data" / "gazetteer" / "divisions.tsv.gz"
LEVELS = ("province", "city", "district", "township", "village")
LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}
# Municipalities directly under the central government: their districts hang off the province.
MUNICIPALITIES = {"110000", "120000", "310000", "500000"}

_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")
_CITY_SUFFIXES = ("自治州", "地区", "市", "盟")
_DISTRICT_SUFFIXES = ("自治旗", "林区", "特区", "区", "县", "市", "旗")
_TOWNSHIP_SUFFIXES = ("街道", "镇", "乡", "苏木")
_ETHNIC = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,6}族)+自治[州县旗]$")


@dataclass(slots=True)
class Division:
    code: str
    parent: str
    level: str
    name: str
    aliases: list[str] = field(default_factory=list)
    from_config: bool = False


def short_name(name: str, level: str) -> str:
    """The everyday short form (江苏省→江苏, 江宁区→江宁, 周庄镇→周庄), or "" when none is safe."""
    m = _ETHNIC.match(name)
    if m and level in ("city", "district"):
        stem = m.group(1)
        return stem if len(stem) >= 2 else ""
    suffixes = {
        "province": _PROVINCE_SUFFIXES,
        "city": _CITY_SUFFIXES,
        "district": _DISTRICT_SUFFIXES,
        "township": _TOWNSHIP_SUFFIXES,
    }.get(level, ())
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return ""


def load_divisions(path: Path = DATA_FILE) -> list[Division]:
    """Read the shipped division list (code, parent, level, name per line)."""
    return list(_load_cached(str(path)))


@lru_cache(maxsize=4)
def _load_cached(path: str) -> tuple[Division, ...]:
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            code, parent, level, name = line.rstrip("\n").split("\t")
            rows.append(Division(code, parent, level, name))
    return tuple(rows)


def data_date(path: Path = DATA_FILE) -> str:
    """The 'data_as_of' date written in the shipped file's header."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            m = re.search(r"data_as_of:\s*(\S+)", line)
            if m:
                return m.group(1)
    return ""


class Gazetteer:
    """Divisions by code with parent links, merged with the home jurisdiction's config."""

    def __init__(self, divisions: list[Division], home: dict[str, Any] | None = None) -> None:
        self.by_code: dict[str, Division] = {}
        self.replaced: dict[str, str] = {}  # national code -> configured code, same place
        self.collisions: list[tuple[str, str, str]] = []  # code, national name, config name
        for d in divisions:
            self.by_code[d.code] = Division(d.code, d.parent, d.level, d.name, list(d.aliases))
        self.home_code = ""
        if home:
            self._merge_home(home)
        self._chains: dict[str, tuple[Division, ...]] = {}
        self._ancestors: dict[str, frozenset[str]] = {}
        self._children: dict[str, list[str]] = {}
        for d in self.by_code.values():
            self._children.setdefault(d.parent, []).append(d.code)

    @classmethod
    def default(cls, home: dict[str, Any] | None = None) -> Gazetteer:
        return cls(load_divisions(), home)

    # -- home jurisdiction -------------------------------------------------------------
    def _merge_home(self, home: dict[str, Any]) -> None:
        code = _code(home, "home")
        self.home_code = code
        parent = ""
        for p in home.get("parents") or []:
            pcode = _code(p, "home.parents")
            if pcode not in self.by_code:
                self.by_code[pcode] = Division(pcode, parent, p.get("level", "city"), p["name"],
                                               list(p.get("aliases") or []), True)
            parent = pcode
        self._merge_node(home, parent or self.by_code.get(code, Division(code, "", "", "")).parent)

    def _merge_node(self, node: dict[str, Any], parent: str) -> None:
        """Put one configured node (and its subtree) over the national list.

        The configuration is authoritative inside the home jurisdiction, because units and
        routing rules are keyed by its codes: a national entry with the same name under the same
        parent, or with the same code under another name, gives way (and is reported).
        """
        code = _code(node, "home")
        name = str(node.get("name") or "").strip()
        level = str(node.get("level") or "township")
        if not name or level not in LEVEL_RANK:
            raise ValueError(f"属地配置项 {code} 缺少名称或层级无效: {node!r}")
        aliases = [str(a).strip() for a in node.get("aliases") or [] if str(a).strip()]
        existing = self.by_code.get(code)
        if existing is not None and existing.name == name and not existing.from_config:
            existing.aliases = sorted(set(existing.aliases) | set(aliases))
            existing.from_config = True
        else:
            if existing is not None and not existing.from_config:
                self.collisions.append((code, existing.name, name))
                del self.by_code[code]
            for other in [d for d in self.by_code.values() if d.parent == parent
                          and d.name == name and d.code != code and not d.from_config]:
                self.replaced[other.code] = code
                del self.by_code[other.code]
            self.by_code[code] = Division(code, parent, level, name, aliases, True)
        for child in node.get("children") or []:
            self._merge_node(child, code)

    # -- structure ---------------------------------------------------------------------
    def get(self, code: str) -> Division | None:
        return self.by_code.get(code)

    def chain(self, code: str) -> tuple[Division, ...]:
        """The division and its ancestors, province first (memoized: the data is fixed)."""
        cached = self._chains.get(code)
        if cached is None:
            cached = self._chains[code] = self._walk(code)
        return cached

    def _walk(self, code: str) -> tuple[Division, ...]:
        out: list[Division] = []
        seen: set[str] = set()
        cur = self.by_code.get(code)
        while cur is not None and cur.code not in seen:
            out.append(cur)
            seen.add(cur.code)
            cur = self.by_code.get(cur.parent) if cur.parent else None
        return tuple(out[::-1])

    def ancestors(self, code: str) -> frozenset[str]:
        cached = self._ancestors.get(code)
        if cached is None:
            cached = self._ancestors[code] = frozenset(d.code for d in self.chain(code))
        return cached

    def full_name(self, code: str) -> str:
        return "".join(d.name for d in self.chain(code))

    def children(self, code: str) -> list[str]:
        return list(self._children.get(code, []))

    def in_home(self, code: str) -> bool:
        return bool(self.home_code) and self.home_code in self.ancestors(code)

    def home_discrepancies(self) -> list[str]:
        """Configured home codes that differ from the national list, in Chinese."""
        out = []
        for old, new in sorted(self.replaced.items()):
            d = self.by_code[new]
            out.append(f"{d.name}: 配置代码 {new} 与全国区划代码 {old} 不一致（已按配置使用 {new}）")
        for code, national, configured in self.collisions:
            out.append(f"代码 {code} 在全国区划中是{national}，配置中却是{configured}（已按配置）")
        return out


def _code(node: dict[str, Any], where: str) -> str:
    code = str(node.get("code") or "").strip()
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise ValueError(f"属地配置 {where} 的代码无效（应为 6/9/12 位数字）: {code!r}")
    return code

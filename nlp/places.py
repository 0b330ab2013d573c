"""Find the places a post concerns and resolve them to administrative divisions.

``GazetteerPlaceFinder`` implements the ``PlaceFinder`` protocol of ``nlp.types``:

1. an Aho-Corasick automaton over full names, configured aliases and short forms finds every
   mention, longest match first, so 江宁街道 never yields 江宁区 and 海淀区中关村街道 yields both;
2. short forms are trusted only where they cannot be a common word: provinces and cities alone
   (江苏, 南京), districts and townships only right after their own ancestor (南京江宁, 昆山周庄)
   or inside the home jurisdiction; a short form followed by 路/街/巷 is a road, not a place;
3. a name found in several places (朝阳区, 鼓楼区, 东山街道) is decided by the other places in the
   text (ancestors, descendants, neighbours), then the source's default place, then the home
   jurisdiction, and only then by a fixed preference (municipality, capital) at low confidence;
4. nothing found: the source's default place, at low confidence.

Every result carries Chinese reasons. Matches are ordered most specific first, then by position.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import ahocorasick

from nlp.gazetteer import LEVEL_RANK, MUNICIPALITIES, Division, Gazetteer, short_name
from nlp.types import PlaceMatch

LEVEL_CN = {"province": "省级", "city": "市级", "district": "县级", "township": "乡级",
            "village": "村级"}
# A short form followed by these names a road or a compound (桂林小区 is in 南京), not a place.
_ROAD_AFTER = ("路", "街", "巷", "弄", "桥", "大道", "小区", "社区", "花园", "新村", "公寓", "大厦",
               "广场", "公园", "苑")


@dataclass(slots=True)
class _Mention:
    start: int
    end: int
    text: str
    candidates: list[tuple[str, str]]  # (code, kind) kind: full / alias / short


@dataclass(slots=True)
class _Pick:
    code: str
    confidence: float
    reasons: list[str]


class GazetteerPlaceFinder:
    """PlaceFinder over the national gazetteer plus the home jurisdiction from config.

    ``home`` is the dict shape of ``config/jurisdictions.yaml`` ``home`` (code, name, level,
    parents, children with aliases; children may nest down to villages). The automaton is built
    on first use, once per instance.
    """

    def __init__(self, home: dict[str, Any] | None = None,
                 gazetteer: Gazetteer | None = None) -> None:
        self._home = home
        self._gaz = gazetteer
        self._auto: Any = None
        self._build_lock = threading.Lock()

    @property
    def gazetteer(self) -> Gazetteer:
        if self._gaz is None:
            self._gaz = Gazetteer.default(self._home)
        return self._gaz

    # -- index -----------------------------------------------------------------------
    def _automaton(self) -> Any:
        if self._auto is not None:
            return self._auto
        with self._build_lock:
            if self._auto is None:
                self._auto = self._build()
        return self._auto

    def _build(self) -> Any:
        gaz = self.gazetteer
        keys: dict[str, list[tuple[str, str]]] = {}

        def add(surface: str, code: str, kind: str) -> None:
            if len(surface) >= 2:
                keys.setdefault(surface, []).append((code, kind))

        for d in gaz.by_code.values():
            add(d.name, d.code, "full")
            for alias in d.aliases:
                add(alias, d.code, "alias")
            short = short_name(d.name, d.level)
            if short:
                # The home district's short form (江宁) is everyday usage for local sources.
                add(short, d.code, "alias" if d.code == gaz.home_code else "short")
        auto = ahocorasick.Automaton()
        for surface, cands in keys.items():
            # Split once here what the scan would otherwise decide per hit: names that stand
            # alone, and short forms of districts/townships that need their ancestor before them.
            alone, after_parent = [], []
            for code, kind in _dedupe(cands):
                div = gaz.by_code[code]
                # County-level cities are called by their short names (昆山, 江阴, 义乌).
                if kind != "short" or div.level in ("province", "city") or (
                        div.level == "district" and div.name.endswith("市")):
                    alone.append((code, kind))
                else:
                    after_parent.append((code, gaz.ancestors(code)))
            auto.add_word(surface, (surface, tuple(alone), tuple(after_parent)))
        auto.make_automaton()
        return auto

    # -- public API ------------------------------------------------------------------
    def find(self, text: str, default_place: str = "") -> list[PlaceMatch]:
        gaz = self.gazetteer
        mentions = self._mentions(text or "")
        picks: dict[str, tuple[_Pick, _Mention]] = {}
        surfaces: dict[str, list[str]] = {}
        first_pos: dict[str, int] = {}
        # Unambiguous names first; an ambiguous name decided by context becomes context for
        # the ambiguous names after it, and the first ones are decided again at the end.
        resolved = {i: m.candidates[0][0] for i, m in enumerate(mentions)
                    if len(m.candidates) == 1}
        ambiguous = [i for i, m in enumerate(mentions) if len(m.candidates) > 1]
        decided: dict[int, _Pick] = {}
        for i in ambiguous + ambiguous[:-1]:
            decided[i] = self._resolve(i, mentions[i], mentions, resolved, default_place)
            # Only a name decided by the text itself is context for the others; a guess is not.
            if decided[i].confidence >= 0.75:
                resolved[i] = decided[i].code
            else:
                resolved.pop(i, None)
        for i, m in enumerate(mentions):
            pick = decided.get(i) or self._resolve(i, m, mentions, resolved, default_place)
            first_pos.setdefault(pick.code, m.start)
            seen = surfaces.setdefault(pick.code, [])
            if m.text not in seen:
                seen.append(m.text)
            prev = picks.get(pick.code)
            if prev is None or pick.confidence > prev[0].confidence:
                picks[pick.code] = (pick, m)
        out = [self._to_match(p, "、".join(surfaces[p.code])) for p, _m in picks.values()]
        if not out and default_place and gaz.get(default_place):
            out.append(self._to_match(_Pick(default_place, 0.5, [
                f"正文未提及可识别的地名，采用来源默认属地{gaz.full_name(default_place)}"]), ""))
        out.sort(key=lambda pm: (-LEVEL_RANK.get(pm.level, 0), first_pos.get(pm.code, 0)))
        return out

    # -- steps -----------------------------------------------------------------------
    def _mentions(self, text: str) -> list[_Mention]:
        """Every valid mention, then the longest non-overlapping ones (so 江宁街道 wins)."""
        auto = self._automaton()
        raw = []
        for end, value in auto.iter(text):
            raw.append((end - len(value[0]) + 1, end + 1, value))
        raw.sort(key=lambda r: (r[0], r[0] - r[1]))
        valid = self._filter_shorts(raw, text)
        chosen: list[_Mention] = []
        taken = [False] * (len(text) + 1)
        for m in sorted(valid, key=lambda m: (-len(m.text), m.start)):
            if not any(taken[m.start:m.end]):
                chosen.append(m)
                for k in range(m.start, m.end):
                    taken[k] = True
        return sorted(chosen, key=lambda m: m.start)

    @staticmethod
    def _filter_shorts(raw: list[tuple[int, int, Any]], text: str) -> list[_Mention]:
        """Keep short forms only where they cannot be an ordinary word."""
        kept: list[_Mention] = []
        ends: dict[int, list[_Mention]] = {}
        for start, end, (surface, alone, after_parent) in raw:
            road = text[end:end + 1] in _ROAD_AFTER or text[end:end + 2] in _ROAD_AFTER
            cands = [(c, k) for c, k in alone if not (road and k == "short")]
            before = ends.get(start)
            if after_parent and before and not road:
                # District and township short forms only right after their own ancestor.
                prev_codes = {c for prev in before for c, _ in prev.candidates}
                cands += [(c, "short") for c, anc in after_parent if prev_codes & anc]
            # A full name or alias beats a bare short form of something else.
            if any(k != "short" for _, k in cands):
                cands = [(c, k) for c, k in cands if k != "short"]
            if cands:
                valid = _Mention(start, end, surface, cands)
                kept.append(valid)
                ends.setdefault(end, []).append(valid)
        return kept

    def _resolve(self, i: int, m: _Mention, mentions: list[_Mention],
                 resolved: dict[int, str], default_place: str) -> _Pick:
        gaz = self.gazetteer
        codes = [c for c, _ in m.candidates]
        kind = dict(m.candidates)
        if len(codes) == 1:
            code = codes[0]
            conf = {"full": 0.95, "alias": 0.85, "short": 0.85}[kind[code]]
            if kind[code] == "short" and len(m.text) == 2 and gaz.by_code[code].level in (
                    "city", "district"):
                conf = 0.8
            reasons = [self._how(m.text, code, kind[code])]
            support = self._support(code, i, mentions, resolved)
            if support[0] >= 3:
                conf = min(0.98, conf + 0.03)
                reasons.append(support[1])
            return _Pick(code, conf, reasons + self._street_note(code))
        alts = "、".join(gaz.full_name(c) for c in codes[:5]) + ("等" if len(codes) > 5 else "")
        head = f"“{m.text}”有{len(codes)}处同名：{alts}"
        scored = sorted(((self._support(c, i, mentions, resolved), c) for c in codes),
                        key=lambda x: -x[0][0])
        best, second = scored[0], scored[1]
        if best[0][0] > 0 and best[0][0] > second[0][0]:
            conf = 0.9 if best[0][0] >= 3 else 0.75
            return _Pick(best[1], conf, [head, best[0][1], *self._street_note(best[1])])
        # The source's own place may be a province; the home jurisdiction must share a city.
        for anchor, conf, label, depth in ((default_place, 0.7, "来源默认属地", 1),
                                           (gaz.home_code, 0.65, "本级属地", 2)):
            if anchor and gaz.get(anchor):
                code = _closest(gaz, codes, anchor, depth)
                if code:
                    why = f"正文无可判别的上下文，按{label}{gaz.full_name(anchor)}取最近者"
                    return _Pick(code, conf, [head, why, *self._street_note(code)])
        code = sorted(codes, key=lambda c: _prior(gaz.by_code[c]))[0]
        return _Pick(code, 0.4, [
            head, f"正文无上下文可判别，暂取{gaz.full_name(code)}，置信度低，请人工核实"])

    def _support(self, code: str, i: int, mentions: list[_Mention],
                 resolved: dict[int, str]) -> tuple[float, str]:
        """How strongly the other mentions in the text point at ``code``, and why."""
        gaz = self.gazetteer
        mine = gaz.ancestors(code)
        chain_mine = gaz.chain(code)
        city = _city_of(chain_mine)
        total, why = 0.0, ""
        for j, other in enumerate(mentions):
            if j == i:
                continue
            options = [resolved[j]] if j in resolved else [c for c, _ in other.candidates]
            best, best_why = 0.0, ""
            for oc in options:
                if oc == code:
                    continue
                if oc in mine:
                    w, rel = 3.0, "上级"
                elif code in gaz.ancestors(oc):
                    w, rel = 3.0, "下级"
                elif (len(chain_mine) > 2 and len(gaz.chain(oc)) > 2
                      and chain_mine[2].level == "district"
                      and gaz.chain(oc)[2].code == chain_mine[2].code):
                    w, rel = 2.5, "同区县的地名"
                elif city and city == _city_of(gaz.chain(oc)):
                    w, rel = 2.0, "同市的地名"
                elif chain_mine and gaz.chain(oc) and gaz.chain(oc)[0].code == chain_mine[0].code:
                    w, rel = 1.0, "同省的地名"
                else:
                    continue
                if w > best:
                    best = w
                    best_why = f"正文中的“{other.text}”（{gaz.full_name(oc)}）是其{rel}，据此判定"
            weight = best / max(1, len(options))
            if weight > total:
                why = best_why
            total += weight
        return total, why

    def _how(self, surface: str, code: str, kind: str) -> str:
        d = self.gazetteer.by_code[code]
        label = {"full": "全称", "alias": "别名", "short": "简称"}[kind]
        src = "（属地配置）" if d.from_config else ""
        return (f"{label}匹配“{surface}”→{self.gazetteer.full_name(code)}"
                f"（{LEVEL_CN.get(d.level, d.level)}，代码{code}）{src}")

    def _street_note(self, code: str) -> list[str]:
        """Say so when a township is named like a district (江宁街道 vs 江宁区)."""
        gaz = self.gazetteer
        d = gaz.by_code[code]
        if d.level not in ("township", "village"):
            return []
        stem = short_name(d.name, d.level)
        for anc in gaz.chain(code)[:-1]:
            if stem and short_name(anc.name, anc.level) == stem:
                return [f"按最长匹配识别为“{d.name}”，不是同名的{anc.name}"]
        return []

    def _to_match(self, pick: _Pick, text: str) -> PlaceMatch:
        d = self.gazetteer.by_code[pick.code]
        return PlaceMatch(name=self.gazetteer.full_name(pick.code), code=pick.code,
                          level=d.level, confidence=round(pick.confidence, 2), text=text,
                          reasons=pick.reasons)


def _dedupe(cands: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    order = {"full": 0, "alias": 1, "short": 2}
    best: dict[str, str] = {}
    for code, kind in cands:
        if code not in best or order[kind] < order[best[code]]:
            best[code] = kind
    return tuple(best.items())


def _city_of(chain: tuple[Division, ...]) -> str:
    for d in chain:
        if d.level == "city":
            return d.code
    # Districts of municipalities hang off the province: the province is their city.
    if chain and chain[0].code in MUNICIPALITIES:
        return chain[0].code
    return ""


def _closest(gaz: Gazetteer, codes: list[str], anchor: str, min_depth: int) -> str:
    """The candidate sharing the deepest ancestry with ``anchor`` ("" below ``min_depth``)."""
    anchor_chain = [d.code for d in gaz.chain(anchor)]
    best, depth = "", 0
    for c in codes:
        chain = [d.code for d in gaz.chain(c)]
        shared = 0
        for a, b in zip(anchor_chain, chain, strict=False):
            if a != b:
                break
            shared += 1
        if c in anchor_chain or anchor in chain:
            shared += 1
        if shared > depth:
            best, depth = c, shared
    return best if depth >= min_depth else ""


def _prior(d: Division) -> tuple[int, int, int, str]:
    """Fixed preference when nothing else decides: higher level, municipality, capital."""
    municipality = 0 if d.code[:2] + "0000" in MUNICIPALITIES else 1
    capital = 0 if d.code[2:4] == "01" else 1
    return (LEVEL_RANK.get(d.level, 9), municipality, capital, d.code)

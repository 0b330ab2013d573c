"""Find the places a post concerns and resolve them to administrative divisions.

``GazetteerPlaceFinder`` implements the ``PlaceFinder`` protocol of ``nlp.types``:

1. an Aho-Corasick automaton over full names, configured aliases and short forms finds every
   mention, longest match first, so 江宁街道 never yields 江宁区 and 海淀区中关村街道 yields both;
2. a mention must sit on word boundaries of the segmented text (``nlp.tokenize``, dictionary
   words only): 大安 in 重大安全, 保定 in 医保定点, 兴城市 in 绍兴城市 cross a word and are not
   places; a full name may run into a word made with its own suffix (江宁区政府, 北京市民);
3. short forms are trusted only where they cannot be a common word: provinces and cities alone
   (江苏, 南京), county-level cities alone only weakly (昆山, 江阴), districts and townships only
   right after their own ancestor (南京江宁, 昆山周庄), inside the home jurisdiction or, for
   districts, inside the home's city; a short form followed by 路/街 is a road and one followed
   by 小区/花园/苑 an estate (龙井花园), not a place; one inside a company or institution name
   (南京某公司, 南京大学) is weak evidence;
4. a name found in several places (朝阳区, 鼓楼区, 东湖街道) is decided by the other places in the
   text (ancestors, descendants, neighbours), then the source's default place, then the home
   jurisdiction's city and province, and only then by a fixed preference at low confidence;
5. nothing found: the source's default place, at low confidence.

Confidence per place (``PlaceMatch.confidence``): 0.95 a unique full name; 0.85 an alias or a
short form after its parent; 0.8 a city's short form; 0.75–0.9 a homonym decided by the text;
0.55–0.7 weak evidence (county-level city alone, company names, homonyms decided by the home
jurisdiction); 0.4–0.45 a guess. Routing treats a foreign place as decisive only from
``HIGH_CONFIDENCE``. Every result carries Chinese reasons; matches are ordered most specific
first, then by position.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import ahocorasick

from nlp.gazetteer import LEVEL_RANK, MUNICIPALITIES, Division, Gazetteer, short_name
from nlp.gazetteer_words import (
    COMMON_WORDS,
    DISH_AFTER,
    ESTATE_AFTER,
    INSTITUTION_TAILS,
    ROAD_AFTER,
    company,
    split_place_words,
    suffix_word,
)
from nlp.tokenize import Tokenizer
from nlp.types import PlaceMatch

LEVEL_CN = {"province": "省级", "city": "市级", "district": "县级", "township": "乡级",
            "village": "村级"}
# From this confidence a place outside the home jurisdiction may decide routing (属地外).
HIGH_CONFIDENCE = 0.75
WEAK = 0.55  # evidence worth keeping, never decisive on its own
@dataclass(slots=True)
class _Mention:
    start: int
    end: int
    text: str
    candidates: list[tuple[str, str]]  # (code, kind) kind: full / alias / short / parent / local
    weak: str = ""  # why this mention is only weak evidence (company, institution)
    ambiguous_short: bool = False  # the surface is also the short form of other districts


@dataclass(slots=True)
class _Pick:
    code: str
    confidence: float
    reasons: list[str] = field(default_factory=list)


class GazetteerPlaceFinder:
    """PlaceFinder over the national gazetteer plus the home jurisdiction from config.

    ``home`` is the dict shape of ``config/jurisdictions.yaml`` ``home`` (code, name, level,
    parents, children with aliases; children may nest down to villages). The automaton and the
    word segmenter are built on first use, once per instance.
    """

    def __init__(self, home: dict[str, Any] | None = None,
                 gazetteer: Gazetteer | None = None,
                 tokenizer: Tokenizer | None = None) -> None:
        self._home = home
        self._gaz = gazetteer
        self._auto: Any = None
        self._tok = tokenizer
        self._build_lock = threading.Lock()

    @property
    def gazetteer(self) -> Gazetteer:
        if self._gaz is None:
            self._gaz = Gazetteer.default(self._home)
        return self._gaz

    @property
    def tokenizer(self) -> Tokenizer:
        if self._tok is None:
            # The home's own names are kept whole, as the analyzer's tokenizer keeps them.
            words = [d.name for d in self.gazetteer.by_code.values() if d.from_config]
            words += [a for d in self.gazetteer.by_code.values() if d.from_config
                      for a in d.aliases]
            self._tok = Tokenizer(extra_words=words)
        return self._tok

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
        home_city = _city_of(gaz.chain(gaz.home_code)) if gaz.home_code else ""

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
            districts = 0
            for code, kind in _dedupe(cands):
                div = gaz.by_code[code]
                if kind == "short" and div.level != "township":
                    districts += 1
                if kind != "short" or div.level in ("province", "city") or (
                        div.level == "district" and div.name.endswith("市")):
                    alone.append((code, kind))
                elif (home_city and div.level == "district"
                      and _city_of(gaz.chain(code)) == home_city):
                    # Districts of the home's own city go by their short names (雨花台, 秦淮).
                    alone.append((code, "local"))
                else:
                    after_parent.append((code, gaz.ancestors(code)))
            auto.add_word(surface, (surface, tuple(alone), tuple(after_parent), districts > 1))
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
            if not pick.code:
                continue
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
        if not raw:
            return []
        raw.sort(key=lambda r: (r[0], r[0] - r[1]))
        valid = self._filter(raw, text, self._words(text))
        chosen: list[_Mention] = []
        taken = [False] * (len(text) + 1)
        for m in sorted(valid, key=lambda m: (-len(m.text), m.start)):
            if not any(taken[m.start:m.end]):
                chosen.append(m)
                for k in range(m.start, m.end):
                    taken[k] = True
        return sorted(chosen, key=lambda m: m.start)

    def _words(self, text: str) -> list[int]:
        """Offsets where the dictionary words of ``text`` start and end, [] when unknown (no
        HMM guesses: an unknown name such as 秣陵 must not be glued to the character before)."""
        backend = self.tokenizer.backend
        try:
            pieces = backend.cut(text, False)
        except TypeError:  # a backend without the HMM switch
            pieces = self.tokenizer.cut(text)
        cuts = [0, *accumulate(map(len, pieces))]
        return cuts if cuts[-1] == len(text) else []

    def _filter(self, raw: list[tuple[int, int, Any]], text: str,
                cuts: list[int]) -> list[_Mention]:
        """Keep the hits that can be places here: on word boundaries, short forms only where
        they cannot be an ordinary word."""
        cuts = split_place_words(cuts, raw)
        at_cut = set(cuts)
        kept: list[_Mention] = []
        ends: dict[int, list[_Mention]] = {}
        for start, end, (surface, alone, after_parent, ambiguous) in raw:
            if cuts and start not in at_cut:
                continue  # starts inside a word: 大安 in 重大安全, 兴城市 in 绍兴城市
            weak = ""
            if cuts and end not in at_cut:
                idx = bisect_right(cuts, end)
                a, b = cuts[idx - 1], cuts[idx]
                tail = text[end:b]
                full_tail = any(k == "full" and suffix_word(surface, tail) for _, k in alone)
                if full_tail:
                    pass  # 江宁区政府, 北京市民: the name's own suffix makes the word
                elif alone and all(k == "alias" for _, k in alone):
                    pass  # configured names are meant as places (九龙湖边)
                elif a == start and tail.startswith(INSTITUTION_TAILS):
                    weak = f"出现在机构名称“{text[start:b]}”中"
                else:
                    continue  # ends inside a word: 大理 in 大理石, 龙井 in 龙井茶
            after = text[end:end + 4]
            road = after.startswith(ROAD_AFTER)
            estate = after.startswith(ESTATE_AFTER) or after.startswith(DISH_AFTER)
            # a two-character alias (the home's 江宁) is a short form too: 江宁路 is in 上海
            bare = ("short", "local", "alias") if len(surface) == 2 else ("short", "local")
            cands = [(c, k) for c, k in alone if not ((road or estate) and k in bare)]
            before = ends.get(start)
            if after_parent and before and not (road or estate):
                # District and township short forms only right after their own ancestor.
                prev_codes = {c for prev in before for c, _ in prev.candidates}
                cands += [(c, "parent") for c, anc in after_parent if prev_codes & anc]
            # A full name or alias beats a short form of something else (芒市 is not 芒市镇),
            # a short form after its parent beats a bare one.
            if any(k in ("full", "alias") for _, k in cands):
                cands = [(c, k) for c, k in cands if k in ("full", "alias")]
            elif any(k == "parent" for _, k in cands):
                cands = [(c, k) for c, k in cands if k == "parent"]
            if not cands:
                continue
            if not weak and all(k in ("short", "local") for _, k in cands):
                weak = company(text, end)
            valid = _Mention(start, end, surface, cands, weak, ambiguous)
            kept.append(valid)
            ends.setdefault(end, []).append(valid)
        return kept

    def _resolve(self, i: int, m: _Mention, mentions: list[_Mention],
                 resolved: dict[int, str], default_place: str) -> _Pick:
        codes = [c for c, _ in m.candidates]
        if len(codes) == 1:
            pick = self._unique(i, m, codes[0], m.candidates[0][1], mentions, resolved)
        else:
            pick = self._homonym(i, m, codes, mentions, resolved, default_place)
        if m.weak and pick.confidence > WEAK:
            pick.confidence = WEAK
            pick.reasons.append(f"{m.weak}，仅作弱证据")
        return pick

    def _unique(self, i: int, m: _Mention, code: str, kind: str, mentions: list[_Mention],
                resolved: dict[int, str]) -> _Pick:
        gaz = self.gazetteer
        level = gaz.by_code[code].level
        reasons = [self._how(m.text, code, kind)]
        if kind == "full":
            conf = 0.95
        elif kind in ("alias", "parent"):
            conf = 0.85
        elif kind == "local":  # a district of the home's city by its short name (雨花台, 鼓楼)
            conf = 0.8 if len(m.text) >= 3 else 0.7
        else:  # a bare short form: provinces and cities are household names, counties are not
            conf = {"province": 0.85, "city": 0.8}.get(level, 0.45)
        if kind in ("short", "local") and m.ambiguous_short:
            conf = min(conf, 0.45)
            reasons.append(f"“{m.text}”也是其他区县的简称，单独出现不足以判定")
        elif kind == "short" and m.text in COMMON_WORDS and level == "city":
            conf = 0.45
            reasons.append(f"“{m.text}”也是常用词，无“市”字或上级地名时不足以判定")
        support, why = self._support(code, i, mentions, resolved)
        if support >= 3:
            conf = min(0.98, max(conf, 0.85) + 0.03)
            reasons.append(why)
        elif support >= 2 and conf < 0.8:
            conf = 0.8
            reasons.append(why)
        elif support >= 1 and conf < 0.7:
            conf = 0.7
            reasons.append(why)
        elif conf < 0.6 and self._home_province() in gaz.ancestors(code):
            conf = 0.6
            reasons.append("位于本级属地所在省份")
        return _Pick(code, conf, reasons + self._street_note(code))

    def _homonym(self, i: int, m: _Mention, codes: list[str], mentions: list[_Mention],
                 resolved: dict[int, str], default_place: str) -> _Pick:
        gaz = self.gazetteer
        alts = "、".join(gaz.full_name(c) for c in codes[:5]) + ("等" if len(codes) > 5 else "")
        head = f"“{m.text}”有{len(codes)}处同名：{alts}"
        scored = sorted(((self._support(c, i, mentions, resolved), c) for c in codes),
                        key=lambda x: -x[0][0])
        best, second = scored[0], scored[1]
        if best[0][0] > 0 and best[0][0] > second[0][0]:
            conf = 0.9 if best[0][0] >= 3 else 0.75
            return _Pick(best[1], conf, [head, best[0][1], *self._street_note(best[1])])
        # The source's own place may be a province; the home jurisdiction's city comes before
        # its province (东湖街道 for a 杭州 instance is 杭州's, not 北京's).
        for anchor, conf, label, depth in ((default_place, 0.7, "来源默认属地", 1),
                                           (gaz.home_code, 0.65, "本级属地", 2),
                                           (gaz.home_code, 0.5, "本级属地所在省份", 1)):
            if anchor and gaz.get(anchor):
                code = _closest(gaz, codes, anchor, depth)
                if code:
                    why = f"正文无可判别的上下文，按{label}{gaz.full_name(anchor)}取最近者"
                    if depth == 1 and anchor == gaz.home_code:
                        why = (f"正文无可判别的上下文，取本级属地所在的"
                               f"{gaz.chain(anchor)[0].name}境内者，置信度一般")
                    return _Pick(code, conf, [head, why, *self._street_note(code)])
        if all(gaz.by_code[c].level in ("township", "village") for c in codes):
            # a street name found in many places, none near: naming one would be a false hit
            return _Pick("", 0.0, [head])
        code = sorted(codes, key=lambda c: _prior(gaz.by_code[c]))[0]
        return _Pick(code, 0.4, [
            head, f"正文无上下文可判别，暂取{gaz.full_name(code)}，置信度低，请人工核实"])

    def _home_province(self) -> str:
        gaz = self.gazetteer
        chain = gaz.chain(gaz.home_code) if gaz.home_code else ()
        return chain[0].code if chain else ""

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
        label = {"full": "全称", "alias": "别名", "short": "简称", "parent": "简称（紧随上级）",
                 "local": "简称（本市区县）"}[kind]
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
    order = {"full": 0, "alias": 1, "short": 2, "local": 2, "parent": 2}
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

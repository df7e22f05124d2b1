"""Which units a text names, in whatever words: the core of the 举报 avoidance rule. Pure.

People name a unit by its full name, without the city (住房和城乡建设局), in the official short
form (住房城乡建设局), by a common abbreviation (住建局 / 住建委 / 住建部门), with spaces or
full-width letters (住 建 局, ＺＪＪ) or by its code. `normalise` folds the spelling;
`derived_forms` builds the forms a name implies; the per-unit `aliases` of units.toml add
the abbreviations no rule can derive (住建 from 住房和城乡建设). `UnitNames.named` scans a
text once, leftmost-longest, so a unit merely contained in another's name (A市公安局 in
A市公安局交通警察支队) is not named; `UnitNames.avoided` adds each named unit's line: its
superiors (who could pass the ticket down to it) and its subordinates (who answer to it).

Decided, and documented in the README: a form followed by a word that makes it a place name
(住建局宿舍, 教育局家属院, 住建局站) names the place, not the organisation; a bare place
(泉塘街道, A3区) names the organisation only when an official of it follows (泉塘街道工作人员).
A unit named only as the addressee of a request to act (请市场监管部门依法查处, 希望城管局尽快
来处理) is asked to act, not reported on, unless another mention of it in the same text names
it otherwise (市场监管局工作人员收受好处，请市场监管局查处 names it).
Everything else errs towards avoiding: 住建局 names the city's 住建局 even where the citizen
may mean a county's, because a reported unit handling its own report is the worse mistake.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routing.units import Unit

# Zero-width characters survive NFKC and would split a name as well as a space does.
_SPACES = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
# A government department is called by its stem with any of these (住建局 = 住建委 = 住建部门).
ORG_SUFFIXES = ("委员会", "部门", "局", "委")
# Words after a unit's name that make the whole a place: the compound, the stop.
LANDMARK_WORDS = (
    "宿舍",
    "家属院",
    "家属区",
    "家属楼",
    "小区",
    "公交站",
    "地铁站",
    "站台",
    "站下车",
)
# Words after a bare place (泉塘街道, A3区) that make it the organisation: its officials.
OFFICIAL_WORDS = (
    "工作人员",
    "干部",
    "领导",
    "书记",
    "主任",
    "镇长",
    "区长",
    "县长",
    "城管",
    "执法人员",
    "执法队",
    "党委",
    "党工委",
)
# A request to act: one of these, the unit, optional adverbs, then what it is asked to do.
REQUEST_WORDS = ("请求", "恳请", "希望", "要求", "麻烦", "申请", "请")
_REQUEST_FILLER = ("相关的", "相关", "有关", "贵")  # 请有关市场监管部门…
REQUEST_ADVERBS = (
    "尽快",
    "依法",
    "及时",
    "立即",
    "马上",
    "赶快",
    "严肃",
    "彻底",
    "认真",
    "前来",
    "上门",
    "派人",
    "出面",
    "介入",
    "予以",
    "进行",
    "能够",
    "能",
    "可以",
    "帮忙",
    "来",
    "去",
)
REQUEST_ACTS = (
    "检查",
    "查处",
    "处理",
    "调查",
    "核查",
    "核实",
    "执法",
    "整治",
    "整顿",
    "管理",
    "管管",
    "管一管",
    "处罚",
    "取缔",
    "查办",
    "查一查",
    "查查",
    "严查",
    "监管",
    "处置",
    "督促",
    "拆除",
    "解决",
)
_MIN_DERIVED = 3  # a derived form shorter than this is a word, not a name
_CITY = re.compile(r"^(.{1,4}?市)")
_ENTERPRISE_TAIL = ("有限责任公司", "有限公司")


def normalise(text: str) -> str:
    """Fold full-width and compatibility forms (NFKC), drop spaces, upper-case Latin letters."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or "")).upper()


def city_prefix(units: Iterable[Unit]) -> str:
    """The city's name as the departments' names begin with it (A市), or ''."""
    found = Counter(
        m.group(1) for u in units if u.kind == "department" and (m := _CITY.match(u.name))
    )
    return found.most_common(1)[0][0] if found else ""


def _core(name: str, city: str) -> str:
    """The name without the city and anything before it (国家税务总局A市税务局 → 税务局)."""
    if city and city in name:
        return name.split(city, 1)[1]
    return name


def _with_city(form: str, city: str) -> list[str]:
    return [form, "市" + form, city + form] if city else [form]


def _suffix_variants(form: str) -> list[str]:
    """住建局 → 住建局, 住建委, 住建委员会, 住建部门 (a department's interchangeable suffixes).

    A bare 委 is not swapped: 市纪委 would become 市纪局, and 市监局 is 市场监管局's name.
    """
    for suffix in ("委员会", "部门", "局"):
        stem = form.removesuffix(suffix)
        if stem != form and len(stem) >= 2:
            return list(dict.fromkeys([form, *(stem + s for s in ORG_SUFFIXES)]))
    return [form]


def derived_forms(unit: Unit, units: Mapping[str, Unit], city: str) -> list[str]:
    """The forms a unit's name implies, normalised; its own `aliases` are not included."""
    name = normalise(unit.name)
    out = [name]
    if unit.kind in ("department", "enterprise"):
        core = _core(name, city)
        cores = [core]
        if unit.kind == "department":
            cores.append(core.replace("和", ""))  # 住房和城乡建设局 → 住房城乡建设局 (official)
        for tail in _ENTERPRISE_TAIL:
            if unit.kind == "enterprise" and core.endswith(tail) and len(core) > len(tail) + 2:
                cores.append(core.removesuffix(tail))  # 轨道交通集团有限公司 → 轨道交通集团
        if core.endswith("管理委员会"):
            cores.append(core.removesuffix("管理委员会") + "管委会")
        for c in cores:
            for variant in _suffix_variants(c) if unit.kind == "department" else [c]:
                out += _with_city(variant, city)
    elif unit.kind == "district":
        core = _core(name, city)
        if name.endswith("人民政府"):
            out.append(name.removesuffix("人民政府") + "政府")  # A3区政府
        elif core.endswith("管理委员会"):  # 经济技术开发区管委会
            out += _with_city(core, city)
            out += _with_city(core.removesuffix("管理委员会") + "管委会", city)
    elif unit.kind in ("street", "town"):
        short = _local_short(unit, units)
        out.append(short)
        if short.endswith("街道办事处"):
            out += [short.removesuffix("事处"), short.removesuffix("街道办事处") + "办事处"]
        if short.endswith("人民政府"):
            base = short.removesuffix("人民政府")
            out += [base + "政府", base + "党委"]
    return [f for f in dict.fromkeys(out) if len(f) >= _MIN_DERIVED]


def alias_forms(alias: str, unit: Unit, city: str) -> list[str]:
    """An alias as written, with 市 / the city before it and, for a department, its suffixes."""
    form = normalise(alias)
    variants = _suffix_variants(form) if unit.kind == "department" else [form]
    out: list[str] = []
    for v in variants:
        out += [v] if city and v.startswith(city) else _with_city(v, city)
    return list(dict.fromkeys(out))


def _local_short(unit: Unit, units: Mapping[str, Unit]) -> str:
    """泉塘街道办事处 from A7县泉塘街道办事处 (the name without its district)."""
    name = normalise(unit.name)
    parent = units.get(unit.parent)
    prefix = normalise(parent.name).removesuffix("人民政府") if parent else ""
    return name.removeprefix(prefix) if prefix else name


def place_forms(unit: Unit, units: Mapping[str, Unit]) -> list[str]:
    """The bare place a street, town or district governs (泉塘街道, 安沙镇, A3区)."""
    if unit.kind == "district" and unit.name.endswith("人民政府"):
        return [normalise(unit.name).removesuffix("人民政府")]
    if unit.kind in ("street", "town"):
        short = _local_short(unit, units)
        for tail in ("办事处", "人民政府"):
            if short.endswith(tail) and len(short) - len(tail) >= 2:
                return [short.removesuffix(tail)]
    return []


@dataclass(frozen=True, slots=True)
class Avoidance:
    """Why a unit may not handle a report: it is named, or is in the line of one that is."""

    code: str
    named: str  # the unit the text names
    mention: str  # the words that name it, normalised
    relation: str  # "self" | "superior" | "subordinate"
    reason: str  # for people: 「A3区人民政府（被举报单位…的上级单位，文中称「…」）」


class UnitNames:
    """All the forms of all units, compiled into one leftmost-longest scan."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.units = {u.code: u for u in units}
        self.city = normalise(city_prefix(units))
        forms: dict[str, set[str]] = {}
        places: dict[str, set[str]] = {}
        for u in units:
            for f in derived_forms(u, self.units, self.city):
                forms.setdefault(f, set()).add(u.code)
            for p in place_forms(u, self.units):
                places.setdefault(p, set()).add(u.code)
        # Aliases are checked unique at load time, so they win over a shared derived form.
        explicit = {
            f: u.code for u in units for a in u.aliases for f in alias_forms(a, u, self.city)
        }
        # A derived form two units share (two 洞井街道办 in two districts) may mean either:
        # both are avoided, as a report must not reach the one it names.
        self.literal: dict[str, tuple[str, ...]] = {f: tuple(sorted(c)) for f, c in forms.items()}
        self.literal.update({f: (code,) for f, code in explicit.items()})
        self.places = {p: tuple(sorted(c)) for p, c in places.items()}
        self.children: dict[str, list[str]] = {}
        for u in units:
            if u.parent:
                self.children.setdefault(u.parent, []).append(u.code)
        self._scan = _compile(self.literal, self.places)
        # A code inside a name (A3 in A3区) is a place, not a mention of the unit.
        every = [*self.literal, *self.places]
        codes = sorted(
            (c for c in self.units if not any(c in f for f in every)), key=len, reverse=True
        )
        self._codes = (
            re.compile(r"(?<![A-Z0-9])(?:" + "|".join(map(re.escape, codes)) + r")(?![A-Z0-9])")
            if codes
            else None
        )

    def forms_of(self, code: str) -> list[str]:
        """Every literal form that names unit `code`, longest first."""
        return sorted((f for f, c in self.literal.items() if code in c), key=len, reverse=True)

    def named(self, text: str) -> dict[str, str]:
        """Units the text names (code → the first words naming it), in order of mention.

        A unit mentioned only as the addressee of a request to act is not named.
        """
        norm = normalise(text)
        out: dict[str, str] = {}
        for m in self._scan.finditer(norm):
            if norm.startswith(LANDMARK_WORDS, m.end()):
                continue  # 住建局宿舍: the compound, not the bureau
            if is_request(norm, m.start(), m.end()):
                # asked to act, not reported on; another mention of it may still name it
                continue
            word = m.group(0)
            for code in self.literal.get(word) or self.places[word]:
                out.setdefault(code, word)
        if self._codes is not None:
            for m in self._codes.finditer(norm):
                out.setdefault(m.group(0), m.group(0))
        return out

    def line(self, code: str) -> tuple[list[str], list[str]]:
        """(superiors nearest first, subordinates at every depth) of unit `code`."""
        up: list[str] = []
        cur = self.units[code].parent if code in self.units else ""
        while cur and cur not in up:
            up.append(cur)
            cur = self.units[cur].parent if cur in self.units else ""
        down: list[str] = []
        todo = list(self.children.get(code, ()))
        while todo:
            child = todo.pop(0)
            if child not in down:
                down.append(child)
                todo += self.children.get(child, ())
        return up, down

    def avoided(self, text: str) -> dict[str, Avoidance]:
        """Units that may not handle a report with this text: those named and their lines."""
        named = self.named(text)
        out = {c: self._avoidance(c, c, m, "self") for c, m in named.items()}
        for code, mention in named.items():
            up, down = self.line(code)
            for rel, codes in (("superior", up), ("subordinate", down)):
                for c in codes:
                    out.setdefault(c, self._avoidance(c, code, mention, rel))
        return out

    def _avoidance(self, code: str, named: str, mention: str, relation: str) -> Avoidance:
        name = self._name(code)
        if relation == "self":
            reason = f"{name}（文中称「{mention}」）"
        else:
            role = "上级单位" if relation == "superior" else "下级单位"
            reason = f"{name}（被举报单位{self._name(named)}的{role}，文中称「{mention}」）"
        return Avoidance(code, named, mention, relation, reason)

    def _name(self, code: str) -> str:
        unit = self.units.get(code)
        return unit.name if unit else code


def is_request(norm: str, start: int, end: int) -> bool:
    """Whether the mention norm[start:end] is the addressee of a request to act (请…查处)."""
    before = norm[:start]
    for filler in _REQUEST_FILLER:
        before = before.removesuffix(filler)
    if not before.endswith(REQUEST_WORDS):
        return False
    pos = end
    moved = True
    while moved:  # any number of adverbs: 请城管局尽快派人来依法查处
        moved = False
        for adverb in REQUEST_ADVERBS:
            if norm.startswith(adverb, pos):
                pos += len(adverb)
                moved = True
                break
    return norm.startswith(REQUEST_ACTS, pos)


def _compile(literal: Mapping[str, object], places: Mapping[str, object]) -> re.Pattern[str]:
    officials = "|".join(map(re.escape, OFFICIAL_WORDS))
    alternatives = [(len(f), 1, re.escape(f)) for f in literal]
    alternatives += [(len(p), 0, f"{re.escape(p)}(?=(?:{officials}))") for p in places]
    # Python tries alternatives in order: longest first makes the scan leftmost-longest.
    alternatives.sort(key=lambda a: (-a[0], -a[1], a[2]))
    return re.compile("|".join(a[2] for a in alternatives) or r"(?!)")

"""Routing rules loaded from routing.toml: categories, keyword overrides, kind rules, fallback."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from routing.errors import RuleError
from routing.names import Avoidance, UnitNames
from routing.places import PLACE_KINDS, PlaceMatch
from routing.tomlsource import TomlSource, read_toml
from routing.units import Unit

_TOP = ("fallback", "review_threshold", "review_margin", "category", "keyword", "kind")
_CATEGORY_FIELDS = ("name", "lead", "assist", "local")
_KEYWORD_FIELDS = (
    "words",
    "place_kinds",
    "categories",
    "lead",
    "assist",
    "local",
    "priority",
    "note",
)
_KIND_FIELDS = ("kind", "exclude_named", "supervisor", "review")
# Fields of earlier versions, with what replaced them (an old file gets told, not ignored).
_RETIRED = {
    "alias": '单位的称呼已移到 units.toml：在该单位下写 aliases = ["住建局", …]',
    "to_parent": "已停用：被举报单位的上级和下级一律回避，改派监督单位（supervisor）",
}


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """Classifier category → lead unit (or the 属地 unit when `local`)."""

    name: str
    lead: str
    assist: tuple[str, ...]
    local: bool
    index: int


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """Override fired by a word in the text or by a kind of place found there."""

    words: tuple[str, ...]
    place_kinds: tuple[str, ...]
    lead: str | None
    assist: tuple[str, ...]
    local: bool
    priority: int
    note: str
    index: int
    categories: tuple[str, ...] = ()  # empty: any category

    def applies_to(self, category: str | None) -> bool:
        """False when the rule is limited to other categories than the ticket's."""
        return not self.categories or not category or category in self.categories

    def match(self, text: str, places: Iterable[PlaceMatch]) -> str | PlaceMatch | None:
        """The word or place that triggers this rule, or None."""
        for word in self.words:
            if word in text:
                return word
        if self.place_kinds:
            for p in places:
                if p.kind in self.place_kinds:
                    return p
        return None


@dataclass(frozen=True, slots=True)
class KindRule:
    """Rule for a ticket kind, e.g. 举报: the unit reported on, nor its line, handles it."""

    kind: str
    exclude_named: bool
    supervisor: str | None
    review: bool
    index: int


@dataclass(frozen=True)
class RuleSet:
    """All routing rules, validated against the units."""

    path: str
    fallback: str
    review_threshold: float
    review_margin: float
    categories: Mapping[str, CategoryRule]
    keywords: tuple[KeywordRule, ...]  # highest priority first, then file order
    kinds: Mapping[str, KindRule]
    names: UnitNames  # every form of every unit's name, for 举报 avoidance
    units: Mapping[str, Unit]

    def unit_name(self, code: str) -> str:
        """Display name of a unit code."""
        unit = self.units.get(code)
        return unit.name if unit else code

    def avoided(self, kind: str, text: str) -> dict[str, Avoidance]:
        """Units a ticket of `kind` with `text` must not reach: named ones and their lines."""
        rule = self.kinds.get(kind)
        if rule is None or not rule.exclude_named:
            return {}
        return self.names.avoided(text)

    def must_avoid(self, kind: str, text: str, codes: Iterable[str]) -> dict[str, str]:
        """Units among `codes` that a ticket of `kind` and `text` must avoid (code → why).

        For a kind whose rule excludes named units (举报), these may neither lead nor assist.
        """
        avoided = self.avoided(kind, text)
        return {c: avoided[c].reason for c in codes if c in avoided}


def load_rules(
    path: str | Path,
    units: Iterable[Unit] | Mapping[str, Unit],
    *,
    categories: Collection[str] | None = None,
    kinds: Collection[str] | None = None,
    required_categories: Collection[str] = (),
) -> RuleSet:
    """Load and validate routing.toml; raise RuleError naming file, line and field.

    `categories` and `kinds` are the deployment's vocabulary (data/vocabulary.toml, passed
    in as plain strings): a [[category]] or [[kind]] naming anything else is an error. Each
    of `required_categories` (what the classifier outputs) must have a [[category]] rule.
    None leaves the names unchecked.
    """
    src = read_toml(path)
    by_code = dict(units) if isinstance(units, Mapping) else {u.code: u for u in units}
    parser = _Parser(src, by_code)
    parser.allowed_categories = None if categories is None else tuple(categories)
    parser.allowed_kinds = None if kinds is None else tuple(kinds)
    parser.required_categories = tuple(required_categories)
    return parser.parse()


class _Parser:
    def __init__(self, src: TomlSource, units: dict[str, Unit]) -> None:
        self.src = src
        self.units = units
        self.category_names: set[str] = set()
        self.allowed_categories: tuple[str, ...] | None = None
        self.allowed_kinds: tuple[str, ...] | None = None
        self.required_categories: tuple[str, ...] = ()

    def _word(
        self, value: str, allowed: tuple[str, ...] | None, what: str, table: str, i: int, key: str
    ) -> None:
        """A vocabulary word, or RuleError at its line naming what is allowed."""
        if allowed is not None and value not in allowed:
            raise self.src.error(
                f"{what}「{value}」不在 vocabulary.toml 中（允许：{'、'.join(allowed)}）",
                table=table,
                index=i,
                key=key,
                value=value,
            )

    # -- small typed getters that raise RuleError with position ---------------------------
    def _code(self, value: Any, table: str, index: int, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.src.error("必须是单位代码字符串", table=table, index=index, key=key)
        if value not in self.units:
            raise self.src.error(
                f"未知单位代码「{value}」（units.toml 中没有）",
                table=table,
                index=index,
                key=key,
                value=value,
            )
        return value

    def _codes(self, value: Any, table: str, index: int, key: str, lead: str | None) -> tuple:
        if not isinstance(value, list):
            raise self.src.error("必须是单位代码数组", table=table, index=index, key=key)
        out: list[str] = []
        for v in value:
            code = self._code(v, table, index, key)
            if code == lead:
                raise self.src.error(
                    f"协办单位「{code}」与主办单位相同",
                    table=table,
                    index=index,
                    key=key,
                    value=code,
                )
            if code in out:
                raise self.src.error(
                    f"单位代码「{code}」重复", table=table, index=index, key=key, value=code
                )
            out.append(code)
        return tuple(out)

    def _bool(self, entry: dict, key: str, default: bool, table: str, index: int) -> bool:
        value = entry.get(key, default)
        if not isinstance(value, bool):
            raise self.src.error("必须是 true 或 false", table=table, index=index, key=key)
        return value

    def _fraction(self, key: str, required: bool) -> float:
        if key not in self.src.data:
            if required:
                raise self.src.error("缺少必填字段（0 到 1 之间的数）", key=key)
            return 0.0
        value = self.src.data[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise self.src.error(f"必须是 0 到 1 之间的数，而不是「{value}」", key=key)
        return float(value)

    def _entries(self, table: str, allowed: tuple[str, ...]) -> list[dict]:
        entries = self.src.data.get(table, [])
        if not isinstance(entries, list):
            raise self.src.error(f"{table} 必须写成 [[{table}]] 表数组", key=table)
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise self.src.error(f"[[{table}]] 的每一项必须是表", table=table, index=i)
            for key in entry:
                if key not in allowed:
                    raise self.src.error(
                        f"未知字段（允许：{'、'.join(allowed)}）", table=table, index=i, key=key
                    )
        return entries

    # -- the file ---------------------------------------------------------------------------
    def parse(self) -> RuleSet:
        for key in self.src.data:
            if key in _RETIRED:
                raise self.src.error(_RETIRED[key], key=key)
            if key not in _TOP:
                raise self.src.error(f"未知的顶层字段（允许：{'、'.join(_TOP)}）", key=key)
        if "fallback" not in self.src.data:
            raise self.src.error("缺少必填字段：兜底单位（fallback）", key="fallback")
        fallback = self._code(self.src.data["fallback"], "", 0, "fallback")
        return RuleSet(
            path=str(self.src.path),
            fallback=fallback,
            review_threshold=self._fraction("review_threshold", required=True),
            review_margin=self._fraction("review_margin", required=False),
            categories=MappingProxyType(self._categories()),
            keywords=self._keywords(),
            kinds=MappingProxyType(self._kinds()),
            names=UnitNames(list(self.units.values())),
            units=MappingProxyType(dict(self.units)),
        )

    def _categories(self) -> dict[str, CategoryRule]:
        out: dict[str, CategoryRule] = {}
        for i, e in enumerate(self._entries("category", _CATEGORY_FIELDS)):
            name = e.get("name")
            if not isinstance(name, str) or not name.strip():
                raise self.src.error("缺少分类名称", table="category", index=i, key="name")
            if name in out:
                raise self.src.error(
                    f"分类「{name}」重复（第 {out[name].index + 1} 条已定义）",
                    table="category",
                    index=i,
                    key="name",
                )
            self._word(name, self.allowed_categories, "分类", "category", i, "name")
            if "lead" not in e:
                raise self.src.error(
                    "缺少必填字段：主办单位", table="category", index=i, key="lead"
                )
            lead = self._code(e["lead"], "category", i, "lead")
            assist = self._codes(e.get("assist", []), "category", i, "assist", lead)
            local = self._bool(e, "local", False, "category", i)
            out[name] = CategoryRule(name, lead, assist, local, i)
        self.category_names = set(out)
        missing = [c for c in self.required_categories if c not in out]
        if missing:
            first = self.src.spans.get(("category", 0))
            raise RuleError(
                f"分类模型会输出的分类「{'、'.join(missing)}」没有 [[category]] 规则"
                "（这些工单只能交兜底单位）",
                path=self.src.path,
                line=first[0] if first else None,
            )
        return out

    def _keywords(self) -> tuple[KeywordRule, ...]:
        rules: list[KeywordRule] = []
        seen: dict[str, int] = {}
        for i, e in enumerate(self._entries("keyword", _KEYWORD_FIELDS)):
            words = e.get("words", [])
            if not isinstance(words, list) or not all(
                isinstance(w, str) and w.strip() for w in words
            ):
                raise self.src.error(
                    "必须是非空字符串的数组", table="keyword", index=i, key="words"
                )
            for w in words:
                # the same word in two rules would make precedence depend on file order
                if w in seen:
                    raise self.src.error(
                        f"关键词「{w}」重复（第 {seen[w] + 1} 条已定义）",
                        table="keyword",
                        index=i,
                        key="words",
                        value=w,
                    )
                seen[w] = i
            kinds = e.get("place_kinds", [])
            if not isinstance(kinds, list) or any(k not in PLACE_KINDS for k in kinds):
                raise self.src.error(
                    f"必须是地点类型数组（允许：{'、'.join(PLACE_KINDS)}）",
                    table="keyword",
                    index=i,
                    key="place_kinds",
                )
            if not words and not kinds:
                raise self.src.error(
                    "至少要有一个关键词（或 place_kinds）", table="keyword", index=i, key="words"
                )
            lead = self._code(e["lead"], "keyword", i, "lead") if "lead" in e else None
            local = self._bool(e, "local", False, "keyword", i)
            if lead is None and not local:
                raise self.src.error(
                    "必须指定主办单位，或设 local = true 交属地承办",
                    table="keyword",
                    index=i,
                    key="lead",
                )
            assist = self._codes(e.get("assist", []), "keyword", i, "assist", lead)
            priority = e.get("priority", 0)
            if isinstance(priority, bool) or not isinstance(priority, int):
                raise self.src.error("必须是整数", table="keyword", index=i, key="priority")
            note = e.get("note", "")
            if not isinstance(note, str):
                raise self.src.error("必须是字符串", table="keyword", index=i, key="note")
            cats = e.get("categories", [])
            if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
                raise self.src.error(
                    "必须是分类名称数组", table="keyword", index=i, key="categories"
                )
            for c in cats:
                # a misspelt category would silently switch the rule off
                if c not in self.category_names:
                    raise self.src.error(
                        f"分类「{c}」没有在 [[category]] 中定义",
                        table="keyword",
                        index=i,
                        key="categories",
                        value=c,
                    )
            rules.append(
                KeywordRule(
                    tuple(words), tuple(kinds), lead, assist, local, priority, note, i, tuple(cats)
                )
            )
        rules.sort(key=lambda r: (-r.priority, r.index))
        return tuple(rules)

    def _kinds(self) -> dict[str, KindRule]:
        out: dict[str, KindRule] = {}
        for i, e in enumerate(self._entries("kind", (*_KIND_FIELDS, *_RETIRED))):
            for key in _RETIRED:
                if key in e:
                    raise self.src.error(_RETIRED[key], table="kind", index=i, key=key)
            kind = e.get("kind")
            if not isinstance(kind, str) or not kind.strip():
                raise self.src.error("缺少诉求类型", table="kind", index=i, key="kind")
            self._word(kind, self.allowed_kinds, "诉求类型", "kind", i, "kind")
            if kind in out:
                raise self.src.error(
                    f"诉求类型「{kind}」重复（第 {out[kind].index + 1} 条已定义）",
                    table="kind",
                    index=i,
                    key="kind",
                )
            exclude = self._bool(e, "exclude_named", True, "kind", i)
            supervisor = (
                self._code(e["supervisor"], "kind", i, "supervisor") if "supervisor" in e else None
            )
            if exclude and supervisor is None:
                raise self.src.error(
                    "被举报单位回避时必须指定监督单位（supervisor）",
                    table="kind",
                    index=i,
                    key="supervisor",
                )
            out[kind] = KindRule(
                kind,
                exclude,
                supervisor,
                self._bool(e, "review", False, "kind", i),
                i,
            )
        return out

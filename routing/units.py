"""Units (承办单位): bureaus, districts, streets, towns and enterprises, loaded from units.toml.

`aliases` lists what people call a unit beyond what its name implies (住建局 for
A市住房和城乡建设局); routing.names derives the rest and uses both for 举报 avoidance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from routing.names import alias_forms, city_prefix, derived_forms, normalise, place_forms
from routing.tomlsource import TomlSource, read_toml

UNIT_KINDS = ("department", "district", "street", "town", "community", "enterprise")
KIND_LABELS = {
    "department": "市直部门",
    "district": "区县",
    "street": "街道",
    "town": "镇",
    "enterprise": "企业",
}
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FIELDS = ("code", "name", "kind", "parent", "email")
_OPTIONAL = ("aliases",)


@dataclass(frozen=True, slots=True)
class Unit:
    """One responsible unit; `parent` is a unit code or ''."""

    code: str
    name: str
    kind: str
    parent: str
    email: str
    aliases: tuple[str, ...] = ()  # what people call it beyond the forms of its name


def load_units(path: str | Path) -> list[Unit]:
    """Load and validate units.toml; raise RuleError naming file, line and field."""
    src = read_toml(path)
    return parse_units(src)


def parse_units(src: TomlSource) -> list[Unit]:
    """Validate the parsed units file."""
    for key in src.data:
        if key != "unit":
            raise src.error(f"未知的顶层字段「{key}」（只允许 [[unit]]）", key=key)
    entries = src.data.get("unit")
    if not isinstance(entries, list) or not entries:
        raise src.error("缺少 [[unit]] 表：至少要定义一个单位", key="unit")
    units: list[Unit] = []
    by_code: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise src.error("[[unit]] 的每一项必须是表", table="unit", index=i)
        for key in entry:
            if key not in _FIELDS + _OPTIONAL:
                raise src.error(
                    f"未知字段（允许：{'、'.join(_FIELDS + _OPTIONAL)}）",
                    table="unit",
                    index=i,
                    key=key,
                )
        values: dict[str, str] = {}
        for key in _FIELDS:
            if key not in entry:
                raise src.error("缺少必填字段", table="unit", index=i, key=key)
            if not isinstance(entry[key], str):
                raise src.error("必须是字符串", table="unit", index=i, key=key)
            values[key] = entry[key].strip()
        code, name = values["code"], values["name"]
        if not _CODE.match(code):
            raise src.error(
                f"单位代码「{code}」不合法（大写字母开头，2–32 位大写字母、数字或下划线）",
                table="unit",
                index=i,
                key="code",
            )
        if code in by_code:
            raise src.error(
                f"单位代码「{code}」重复（第 {by_code[code] + 1} 条已使用）",
                table="unit",
                index=i,
                key="code",
            )
        if not name:
            raise src.error("名称不能为空", table="unit", index=i, key="name")
        if name in by_name:
            raise src.error(
                f"单位名称「{name}」重复（第 {by_name[name] + 1} 条已使用）",
                table="unit",
                index=i,
                key="name",
            )
        if values["kind"] not in UNIT_KINDS:
            raise src.error(
                f"类型「{values['kind']}」不合法（允许：{'、'.join(UNIT_KINDS)}）",
                table="unit",
                index=i,
                key="kind",
            )
        if not _EMAIL.match(values["email"]):
            raise src.error(
                f"邮箱「{values['email']}」格式不正确", table="unit", index=i, key="email"
            )
        by_code[code] = i
        by_name[name] = i
        units.append(Unit(**values, aliases=_aliases(src, entry.get("aliases", []), i)))
    _check_parents(src, units, by_code)
    _check_aliases(src, units)
    return units


def _aliases(src: TomlSource, values: object, i: int) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(
        isinstance(v, str) and len(normalise(v)) >= 2 for v in values
    ):
        raise src.error(
            '必须是称呼的数组，每个称呼至少两个字（如 aliases = ["住建局"]）',
            table="unit",
            index=i,
            key="aliases",
        )
    return tuple(v.strip() for v in values)


def _check_aliases(src: TomlSource, units: list[Unit]) -> None:
    """An alias names one unit only: not two units, and not another unit's own name."""
    by_code = {u.code: u for u in units}
    city = normalise(city_prefix(units))
    derived = {
        f: u for u in units for f in (*derived_forms(u, by_code, city), *place_forms(u, by_code))
    }
    owner: dict[str, Unit] = {}
    for i, u in enumerate(units):
        for alias in u.aliases:
            for form in alias_forms(alias, u, city):
                other = owner.get(form) or derived.get(form)
                if other is not None and other.code != u.code:
                    raise src.error(
                        f"称呼「{alias}」（{form}）已指代 {other.code}（{other.name}），"
                        "一个称呼只能指代一个单位：请删去或改写",
                        table="unit",
                        index=i,
                        key="aliases",
                        value=alias,
                    )
                owner[form] = u


def _check_parents(src: TomlSource, units: list[Unit], by_code: dict[str, int]) -> None:
    parents = {u.code: u.parent for u in units}
    for i, u in enumerate(units):
        if not u.parent:
            if u.kind in ("street", "town", "community"):
                raise src.error(
                    "街道/镇/社区必须填写上级单位（parent）", table="unit", index=i, key="parent"
                )
            continue
        if u.parent not in by_code:
            raise src.error(
                f"上级单位代码「{u.parent}」不存在", table="unit", index=i, key="parent"
            )
        # walk up to catch cycles (A → B → A) that would make 举报 rerouting loop
        seen = {u.code}
        cur = u.parent
        while cur:
            if cur in seen:
                raise src.error(
                    f"上级单位形成循环（{u.code} → … → {cur}）",
                    table="unit",
                    index=i,
                    key="parent",
                )
            seen.add(cur)
            cur = parents.get(cur, "")


def index_units(units: Iterable[Unit]) -> dict[str, Unit]:
    """Map code → Unit."""
    return {u.code: u for u in units}

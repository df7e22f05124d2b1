"""SLA policies: which limits apply to a ticket, chosen by kind × category × urgency (× topic).

Policies live in `data/sla.toml` (see the comments there). Rules are tried in
file order and the first match wins; `[default]` is required and applies when
no rule matches. A rule field that is absent or empty matches anything.

The words a rule may match on (kinds, categories, urgencies) are not defined here: they come
from the deployment's vocabulary (`data/vocabulary.toml`), which hotline/ reads once and
passes to `load_policies` as plain sets of strings. Every field the parser accepts is read by
the SLA engine; any other field is an error naming file, line and field, never ignored.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sla._toml import locate, read_toml, where
from sla.clock import ClockKind
from sla.limits import DEFAULT_OFFICE_HOURS, Limit, LimitError, OfficeHours, parse_limit

__all__ = [
    "Policy",
    "PolicyError",
    "PolicySet",
    "load_policies",
    "match_policy",
]

_MATCH_FIELDS = {"kinds", "categories", "urgencies", "topics"}
_VALUE_FIELDS = {
    "name",
    "source",
    "receipt",
    "mediation",
    "mediation_failed_notice",
    "feedback",
    "warn_ratio",
    "pause",
    "extension",
    "max_extensions",
}
_SETTINGS_FIELDS = {
    "timezone",
    "office_hours",
    "warn_ratio",
    "redispatch",
    "decision",
    "callback",
    "review_kinds",
    "assist",
    "subdispatch",
}
# Limits of the hierarchy ([settings]): 协办时限 from dispatch, and the default internal
# limit of a 下派 (always inside the parent's own feedback deadline).
_HIERARCHY_SETTINGS = ("assist", "subdispatch")


class PolicyError(ValueError):
    """The policy file is malformed; the message names file, line, rule and field."""


@dataclass(frozen=True)
class Policy:
    """The limits for one class of tickets."""

    name: str
    receipt: Limit
    feedback: Limit
    mediation: Limit | None = None
    mediation_failed_notice: Limit | None = None
    redispatch: Limit | None = None  # the centre's own limit from 退单 to 改派 ([settings])
    decision: Limit | None = None  # the centre's own limit to decide a unit's request
    callback: Limit | None = None  # the centre's own limit to call back once a reply is out
    warn_ratio: float = 0.75
    pause_allowed: bool = True
    extension: Limit | None = None
    max_extensions: int = 0
    kinds: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    urgencies: frozenset[str] = frozenset()
    topics: tuple[str, ...] = ()
    source: str = ""
    index: int | None = None  # position in the file; None for the default

    @property
    def extension_allowed(self) -> bool:
        """True when an extension may be granted at all."""
        return self.extension is not None and self.max_extensions > 0

    def limit_for(self, clock: ClockKind | str) -> Limit | None:
        """The limit of one clock, or None when this policy has no such clock."""
        return {
            ClockKind.RECEIPT: self.receipt,
            ClockKind.MEDIATION: self.mediation,
            ClockKind.FEEDBACK: self.feedback,
            ClockKind.MEDIATION_NOTICE: self.mediation_failed_notice,
            ClockKind.REDISPATCH: self.redispatch,
            ClockKind.DECISION: self.decision,
            ClockKind.CALLBACK: self.callback,
            # A supervisor sets it per ticket (督办 with a limit): no policy limit.
            ClockKind.SUPERVISION: None,
        }[ClockKind(clock)]

    def matches(
        self, *, kind: str, category: str | None, urgency: str, topics: Iterable[str] = ()
    ) -> bool:
        """True when the ticket falls under this rule (empty criteria match anything)."""
        if self.kinds and kind not in self.kinds:
            return False
        if self.categories and category not in self.categories:
            return False
        if self.urgencies and urgency not in self.urgencies:
            return False
        if self.topics:
            # Keywords match inside whatever the service passes (keywords, a title…).
            texts = [t for t in topics if t]  # the service may pass an empty title or content
            if not any(word in text for word in self.topics for text in texts):
                return False
        return True


@dataclass(frozen=True)
class PolicySet:
    """All rules in order, the default, and the office hours from the same file."""

    rules: tuple[Policy, ...]
    default: Policy
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS
    source: str = ""
    # The vocabulary the file was checked against; empty = not checked (match accepts any).
    kinds: frozenset[str] = frozenset()
    urgencies: frozenset[str] = frozenset()
    assist: Limit | None = None  # 协办时限: dispatch → the assisting unit's opinion
    subdispatch: Limit | None = None  # 下派 default internal limit (the parent may set its own)
    # Kinds whose unit replies the centre reviews before the complainant reads them.
    review_kinds: frozenset[str] = frozenset()

    def match(
        self, *, kind: str, category: str | None, urgency: str = "一般", topics: Iterable[str] = ()
    ) -> Policy:
        """Shorthand for `match_policy(self, ...)`."""
        return match_policy(self, kind=kind, category=category, urgency=urgency, topics=topics)


def match_policy(
    policies: PolicySet,
    *,
    kind: str,
    category: str | None,
    urgency: str = "一般",
    topics: Iterable[str] = (),
) -> Policy:
    """The first rule matching the ticket, else the default (ValueError on unknown kind/urgency)."""
    if policies.kinds and kind not in policies.kinds:
        raise ValueError(f"未知诉求类型 {kind!r}（应为 {'、'.join(sorted(policies.kinds))} 之一）")
    if policies.urgencies and urgency not in policies.urgencies:
        raise ValueError(
            f"未知紧急程度 {urgency!r}（应为 {'、'.join(sorted(policies.urgencies))} 之一）"
        )
    topics = tuple(topics)
    for rule in policies.rules:
        if rule.matches(kind=kind, category=category, urgency=urgency, topics=topics):
            return rule
    return policies.default


def load_policies(
    path: Path,
    *,
    kinds: Collection[str] | None = None,
    categories: Collection[str] | None = None,
    urgencies: Collection[str] | None = None,
) -> PolicySet:
    """Read and validate `data/sla.toml` (`PolicyError` names file, line, rule and field).

    `kinds`, `categories` and `urgencies` are the vocabulary rules may use; a rule naming
    anything else is an error. None leaves that field unchecked (e.g. `python -m sla`).
    """
    path = Path(path)
    vocabulary = {
        "kinds": _ordered(kinds),
        "categories": _ordered(categories),
        "urgencies": _ordered(urgencies),
    }
    doc, text = read_toml(path, PolicyError)

    def fail(table: str, index: int | None, key: str | None, label: str, msg: str) -> PolicyError:
        line = locate(text, table, index, key)
        return PolicyError(f"{where(path, line)}: {label}: {msg}")

    unknown = set(doc) - {"settings", "policy", "default"}
    if unknown:
        key = sorted(unknown)[0]
        raise fail("", None, key, key, "未知字段（允许 [settings]、[[policy]]、[default]）")

    settings = doc.get("settings", {})
    if not isinstance(settings, dict):
        raise fail("", None, "settings", "settings", "应为表 [settings]")
    for key in settings:
        if key not in _SETTINGS_FIELDS:
            raise fail(
                "settings",
                None,
                key,
                f"settings.{key}",
                f"未知字段（允许 {', '.join(sorted(_SETTINGS_FIELDS))}）",
            )
    try:
        office = OfficeHours.parse(
            settings.get("office_hours", ["08:30-12:00", "13:30-17:30"]),
            settings.get("timezone", "Asia/Shanghai"),
        )
    except (LimitError, TypeError) as exc:
        key = "timezone" if "时区" in str(exc) else "office_hours"
        raise fail("settings", None, key, f"settings.{key}", str(exc)) from exc
    base_ratio = settings.get("warn_ratio", 0.75)
    if not _valid_ratio(base_ratio):
        raise fail("settings", None, "warn_ratio", "settings.warn_ratio", "应为 (0, 1] 之间的小数")

    raw_rules = doc.get("policy", [])
    if not isinstance(raw_rules, list):
        raise fail("", None, "policy", "policy", "应为表数组 [[policy]]")
    rules = tuple(
        _parse_rule(
            raw,
            i,
            base_ratio,
            lambda k, lab, msg, i=i: fail("policy", i, k, lab, msg),
            vocabulary,
        )
        for i, raw in enumerate(raw_rules)
    )
    if "default" not in doc:
        raise PolicyError(f"{path}: 缺少 [default] 默认策略（没有规则匹配时使用，必须提供）")
    default = _parse_rule(
        doc["default"],
        None,
        base_ratio,
        lambda k, lab, msg: fail("default", None, k, lab, msg),
        vocabulary,
    )
    # The centre's own limits ([settings]) apply to every rule alike.
    for key in ("redispatch", "decision", "callback"):
        if key not in settings:
            continue
        try:
            centre = parse_limit(settings[key])
        except (LimitError, TypeError) as exc:
            raise fail("settings", None, key, f"settings.{key}", str(exc)) from exc
        rules = tuple(replace(r, **{key: centre}) for r in rules)
        default = replace(default, **{key: centre})
    reviewed = settings.get("review_kinds", [])
    if isinstance(reviewed, str):
        reviewed = [reviewed]
    if not isinstance(reviewed, list) or not all(isinstance(v, str) and v for v in reviewed):
        raise fail("settings", None, "review_kinds", "settings.review_kinds", "应为字符串列表")
    for value in reviewed:
        allowed = vocabulary["kinds"]
        if allowed is not None and value not in allowed:
            raise fail(
                "settings",
                None,
                "review_kinds",
                "settings.review_kinds",
                f"未知取值 {value!r}（应为 {'、'.join(allowed)} 之一）",
            )
    hierarchy: dict[str, Limit] = {}
    for key in _HIERARCHY_SETTINGS:
        if key in settings:
            try:
                hierarchy[key] = parse_limit(settings[key])
            except (LimitError, TypeError) as exc:
                raise fail("settings", None, key, f"settings.{key}", str(exc)) from exc
    return PolicySet(
        rules,
        default,
        office,
        str(path),
        kinds=frozenset(kinds or ()),
        urgencies=frozenset(urgencies or ()),
        **hierarchy,
        review_kinds=frozenset(reviewed),
    )


def _ordered(values: Collection[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


def _valid_ratio(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1


def _parse_rule(
    raw: Any,
    index: int | None,
    base_ratio: float,
    fail: Any,
    vocabulary: dict[str, tuple[str, ...] | None],
) -> Policy:
    """Validate one `[[policy]]` (index given) or the `[default]` table (index None)."""
    prefix = "default" if index is None else f"policy[{index}]"
    if not isinstance(raw, dict):
        raise fail(None, prefix, "应为表")
    name = raw.get("name", "默认" if index is None else None)
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise fail("name", f"{prefix}.name", "应为非空字符串")
    if name is None:
        raise fail(None, f"{prefix}.name", "缺少 name（规则名称）")
    label = f"{prefix}（{name}）"

    allowed = _VALUE_FIELDS | (set() if index is None else _MATCH_FIELDS)
    for key in raw:
        if key not in allowed:
            hint = "；默认策略不能带匹配条件" if key in _MATCH_FIELDS else ""
            raise fail(
                key, f"{label}.{key}", f"未知字段{hint}（允许 {', '.join(sorted(allowed))}）"
            )

    def limit(key: str, required: bool) -> Limit | None:
        if key not in raw:
            if required:
                raise fail(None, f"{label}.{key}", f"缺少 {key} 时限")
            return None
        try:
            return parse_limit(raw[key])
        except LimitError as exc:
            raise fail(key, f"{label}.{key}", str(exc)) from exc

    def words(key: str, allowed_values: tuple[str, ...] | None) -> list[str]:
        value = raw.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail(key, f"{label}.{key}", "应为字符串列表")
        for v in value:
            if allowed_values is not None and v not in allowed_values:
                raise fail(
                    key,
                    f"{label}.{key}",
                    f"未知取值 {v!r}（应为 {'、'.join(allowed_values)} 之一）",
                )
        return value

    ratio = raw.get("warn_ratio", base_ratio)
    if not _valid_ratio(ratio):
        raise fail("warn_ratio", f"{label}.warn_ratio", "应为 (0, 1] 之间的小数")
    pause = raw.get("pause", True)
    if not isinstance(pause, bool):
        raise fail("pause", f"{label}.pause", "应为 true 或 false")
    extension = limit("extension", required=False)
    max_ext = raw.get("max_extensions", 1 if extension else 0)
    if not isinstance(max_ext, int) or isinstance(max_ext, bool) or max_ext < 0:
        raise fail("max_extensions", f"{label}.max_extensions", "应为非负整数")
    if max_ext > 0 and extension is None:
        raise fail(
            "max_extensions", f"{label}.max_extensions", "允许延期时须同时给出 extension 时长"
        )
    mediation = limit("mediation", required=False)
    notice = limit("mediation_failed_notice", required=False)
    if notice is not None and mediation is None:
        raise fail(
            "mediation_failed_notice",
            f"{label}.mediation_failed_notice",
            "只有设有 mediation 调解时限的规则才能设置调解不成告知时限",
        )
    source = raw.get("source", "")
    if not isinstance(source, str):
        raise fail("source", f"{label}.source", "应为字符串")

    kinds = words("kinds", vocabulary["kinds"])
    categories = words("categories", vocabulary["categories"])
    urgencies = words("urgencies", vocabulary["urgencies"])
    topics = words("topics", None)
    if index is not None and not (kinds or categories or urgencies or topics):
        raise fail(
            None,
            f"{label}",
            "规则没有任何匹配条件（kinds/categories/urgencies/topics），"
            "会遮蔽其后所有规则；请改写为 [default]",
        )
    return Policy(
        name=name,
        receipt=limit("receipt", required=True),  # type: ignore[arg-type]
        feedback=limit("feedback", required=True),  # type: ignore[arg-type]
        mediation=mediation,
        mediation_failed_notice=notice,
        warn_ratio=float(ratio),
        pause_allowed=pause,
        extension=extension,
        max_extensions=max_ext,
        kinds=frozenset(kinds),
        categories=frozenset(categories),
        urgencies=frozenset(urgencies),
        topics=tuple(topics),
        source=source,
        index=index,
    )

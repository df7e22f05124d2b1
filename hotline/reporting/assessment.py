"""The composite 考核 score (pure): rules from data/assessment.toml, figures in, ranks out.

A unit's score is the weighted sum of its rates (each weight × the rate, 0–1; a rate where
lower is better counts as 1 − rate) minus deductions (per 督办 received, per 退单 the centre
refused, per reply returned by review, per overdue item). A rate whose sample is below the
configured minimum (样本不足) is left out and the others are scaled up to the full weight,
so a unit neither gains nor loses for a small sample; with no rate left it has no score and
no rank. Ranks: 1 for the highest score; equal scores share a rank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.domain.lifecycle import Action
from hotline.reporting.unit_rates import RATE_FIELDS, Figures
from sla._toml import locate, read_toml, where

LOWER_IS_BETTER = frozenset({"dispute_rate", "extension_rate", "reopen_rate"})
# Rates whose sample is callbacks; the others' sample is assignments (dispatched).
CALLBACK_RATES = frozenset({"reopen_rate", "response_rate", "resolution_rate", "satisfaction_rate"})
# Deductions counted from the event log by action name, and the one counted from the rates.
EVENT_DEDUCTIONS = (Action.SUPERVISE.value, Action.REJECT_DISPUTE.value, Action.RETURN_REPLY.value)
DEDUCTIONS = (*EVENT_DEDUCTIONS, "overdue")
DEDUCTION_LABELS = {
    Action.SUPERVISE.value: "被督办",
    Action.REJECT_DISPUTE.value: "退单被驳回",
    Action.RETURN_REPLY.value: "答复被退回",
    "overdue": "超时未签收/未回复",
}
INSUFFICIENT = "样本不足"


class AssessmentError(ValueError):
    """data/assessment.toml is wrong (the message names file, line and field, in Chinese)."""


@dataclass(frozen=True)
class AssessmentRules:
    """The weights, deductions and minimum samples of data/assessment.toml."""

    weights: dict[str, float]
    deductions: dict[str, float]
    min_assignments: int = 5
    min_callbacks: int = 5

    def sample_ok(self, rate: str, fig: Figures) -> bool:
        """Enough assignments (callbacks) for `rate` to rank a unit on it."""
        if rate in CALLBACK_RATES:
            return fig.callbacks >= self.min_callbacks
        return fig.dispatched >= self.min_assignments

    def insufficient(self, fig: Figures) -> list[str]:
        """The rates a unit is not ranked on (样本不足)."""
        return [name for name in RATE_FIELDS if not self.sample_ok(name, fig)]


DEFAULT_RULES = AssessmentRules(
    weights={
        "on_time_rate": 30,
        "sign_on_time_rate": 10,
        "satisfaction_rate": 30,
        "resolution_rate": 15,
        "response_rate": 15,
    },
    deductions={
        Action.SUPERVISE.value: 1.0,
        Action.REJECT_DISPUTE.value: 2.0,
        Action.RETURN_REPLY.value: 1.0,
        "overdue": 0.5,
    },
)


def load_assessment_rules(data_dir: Path) -> AssessmentRules:
    """data_dir/assessment.toml checked; the defaults above when the file is absent."""
    path = data_dir / "assessment.toml"
    if not path.is_file():
        return DEFAULT_RULES
    data, text = read_toml(path, AssessmentError)

    def fail(table: str | None, key: str | None, message: str) -> AssessmentError:
        line = locate(text, table, None, key) if table else locate(text, "", None, key)
        return AssessmentError(f"{where(path, line)}: {message}")

    for name in data:
        if name not in ("sample", "weights", "deductions"):
            raise fail(None, name, f"未知的表「{name}」，可用的是 [sample] [weights] [deductions]")
    sample = data.get("sample", {})
    minimums = {}
    for key in sample:
        if key not in ("min_assignments", "min_callbacks"):
            raise fail(
                "sample",
                key,
                f"[sample] 中未知的项「{key}」，可用的是 min_assignments、min_callbacks",
            )
    for key in ("min_assignments", "min_callbacks"):
        value = sample.get(key, 5)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise fail("sample", key, f"[sample] {key} 必须是不小于 0 的整数，现为 {value!r}")
        minimums[key] = value
    weights: dict[str, float] = {}
    for key, value in data.get("weights", {}).items():
        if key not in RATE_FIELDS:
            raise fail(
                "weights",
                key,
                f"[weights] 中未知的指标「{key}」，可用的是 {'、'.join(RATE_FIELDS)}",
            )
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise fail("weights", key, f"[weights] {key} 必须是不小于 0 的数，现为 {value!r}")
        weights[key] = float(value)
    if not weights or not any(weights.values()):
        raise fail("weights", None, "[weights] 至少要给一项指标大于 0 的权重")
    deductions: dict[str, float] = {}
    for key, value in data.get("deductions", {}).items():
        if key not in DEDUCTIONS:
            raise fail(
                "deductions",
                key,
                f"[deductions] 中未知的扣分项「{key}」，可用的是 {'、'.join(DEDUCTIONS)}",
            )
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise fail("deductions", key, f"[deductions] {key} 必须是不小于 0 的数，现为 {value!r}")
        deductions[key] = float(value)
    return AssessmentRules(weights, deductions, **minimums)


@dataclass
class UnitScore:
    """One unit's 考核: score (None: 样本不足 on every weighted rate), rank and each part."""

    unit: str
    name: str
    score: float | None
    rank: int | None = None
    parts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """As the API answers it."""
        return {
            "unit": self.unit,
            "name": self.name,
            "score": self.score,
            "rank": self.rank,
            "parts": self.parts,
        }


def unit_score(
    rules: AssessmentRules,
    *,
    unit: str,
    name: str,
    fig: Figures,
    events: dict[str, int],
) -> UnitScore:
    """A unit's score and its parts from its figures and deduction counts (by action)."""
    rates = fig.rates()
    total_weight = sum(rules.weights.values())
    parts: dict[str, Any] = {}
    earned = counted_weight = 0.0
    for rate, weight in rules.weights.items():
        value, exact = rates[rate], fig.ratio(rate)
        ok = rules.sample_ok(rate, fig) and exact is not None
        achieved = None if exact is None else (1 - exact if rate in LOWER_IS_BETTER else exact)
        points = round(weight * achieved, 2) if ok and achieved is not None else None
        parts[rate] = {
            "rate": value,
            "weight": weight,
            "points": points,
            "sample": (fig.callbacks if rate in CALLBACK_RATES else fig.dispatched),
            "insufficient": not ok,
        }
        if ok and achieved is not None:
            earned += weight * achieved
            counted_weight += weight
    counts = {**{k: events.get(k, 0) for k in EVENT_DEDUCTIONS}}
    counts["overdue"] = fig.overdue_unsigned + fig.overdue_unreplied
    deducted = 0.0
    for key in DEDUCTIONS:
        per = rules.deductions.get(key, 0.0)
        parts[key] = {"count": counts[key], "per": per, "points": round(-per * counts[key], 2)}
        deducted += per * counts[key]
    if not counted_weight:
        return UnitScore(unit, name, None, parts=parts)
    # Rates without a sample are left out; the rest scaled to the full weight.
    scaled = earned * total_weight / counted_weight
    parts["scaled_from"] = round(counted_weight, 2)
    return UnitScore(unit, name, round(scaled - deducted, 2), parts=parts)


def ranked(scores: list[UnitScore]) -> list[UnitScore]:
    """Highest score first; equal scores share a rank; no score (样本不足) last, unranked."""
    with_score = sorted((s for s in scores if s.score is not None), key=lambda s: -s.score)
    rank = 0
    previous = None
    for i, s in enumerate(with_score, 1):
        if s.score != previous:
            rank, previous = i, s.score
        s.rank = rank
    return with_score + [s for s in scores if s.score is None]

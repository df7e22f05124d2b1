"""The 考核 of a period before and after the on-time denominators counted overdue work.

Before: 按时办结率 = replied on time ÷ replied, 按时签收率 = signed on time ÷ dispatched
(a unit could keep 100 % by never answering late work). After: ÷ (replied + overdue
unreplied), ÷ (signed + overdue unsigned). Same weights and deductions
(data/assessment.toml) on both sides, so the ranks move only by the denominators.

    DATABASE_URL=sqlite:///tmp/demo.db python main.py demo --no-serve
    python bench/assessment_before_after.py sqlite:///tmp/demo.db 2026-11-01 2026-11-30
"""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tortoise.context import TortoiseContext  # noqa: E402

from hotline.domain.timefmt import utcnow  # noqa: E402
from hotline.reporting.assessment import load_assessment_rules, ranked, unit_score  # noqa: E402
from hotline.reporting.unit_rates import Figures  # noqa: E402
from hotline.runtime.db import tortoise_config  # noqa: E402
from hotline.services.assessment import compute_assessment, deduction_counts  # noqa: E402
from hotline.services.rates import DateRange, UnitGroup, rate_figures  # noqa: E402


class Before(Figures):
    """The figures with the old denominators: overdue unanswered work left out."""

    def ratio(self, name: str) -> float | None:
        if name == "on_time_rate":
            return self.replied_on_time / self.replied if self.replied else None
        if name == "sign_on_time_rate":
            return self.signed_on_time / self.dispatched if self.dispatched else None
        return super().ratio(name)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


async def main(url: str, first: str, last: str) -> None:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        rules = load_assessment_rules(REPO_ROOT / "data")
        days = DateRange.of(date.fromisoformat(first), date.fromisoformat(last))
        report = await rate_figures(days=days, group=UnitGroup(), rules=rules)
        after = await compute_assessment(days=days, rules=rules)
        deductions = await deduction_counts(days)
        counts = {u["unit"]: u for u in report["units"]}
        before = {
            s.unit: s
            for s in ranked(
                [
                    unit_score(
                        rules,
                        unit=u["unit"],
                        name=u["name"],
                        fig=Before(**{k: u[k] for k in Figures().counts()}),
                        events=deductions.get(u["unit"], {}),
                    )
                    for u in report["units"]
                ]
            )
        }
        print(f"period {first}..{last}, now {utcnow():%Y-%m-%d %H:%M} UTC")
        print(
            "unit      dispatched replied on-time overdue-unreplied signed signed-on-time "
            "overdue-unsigned | 按时办结率 before→after | 按时签收率 before→after | "
            "score before→after | 名次 before→after"
        )
        for u in after["units"]:
            c = counts.get(u["unit"], {})
            old = Before(**{k: c.get(k, 0) for k in Figures().counts()})
            b = before.get(u["unit"])
            print(
                f"{u['unit']:9} {c.get('dispatched', 0):10} {c.get('replied', 0):7} "
                f"{c.get('replied_on_time', 0):7} {c.get('overdue_unreplied', 0):17} "
                f"{c.get('signed', 0):6} {c.get('signed_on_time', 0):14} "
                f"{c.get('overdue_unsigned', 0):16} | "
                f"{pct(old.ratio('on_time_rate'))} → {pct(c.get('on_time_rate'))} | "
                f"{pct(old.ratio('sign_on_time_rate'))} → {pct(c.get('sign_on_time_rate'))} | "
                f"{b.score if b else None} → {u['score']} | "
                f"{b.rank if b else None} → {u['rank']}"
            )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))

"""Ticket volumes for the supervisors' dashboard (pure): counts by channel, kind, category
and place, from rows already grouped by the database."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

UNSPECIFIED = "未注明"
TOP = 10


@dataclass(frozen=True)
class VolumeRow:
    """How many tickets share one channel, kind, category, district and street."""

    channel: str
    kind: str
    category: str | None
    district: str
    street: str
    count: int


def _ranked(counter: Counter[Any], key: str, top: int | None = None) -> list[dict[str, Any]]:
    """Largest first; ties in name order, so the answer does not depend on row order."""
    items = sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
    if top is not None:
        items = items[:top]
    return [{key: k, "count": n} for k, n in items]


def volumes(
    rows: Iterable[VolumeRow], *, channel_labels: Mapping[str, str], top: int = TOP
) -> dict[str, Any]:
    """Totals by channel, kind and category; the `top` categories, districts and streets.

    A ticket without a category or place counts as 未注明 in the full lists and is left
    out of the top lists (a top list says where the work is). Channels are labelled with
    the vocabulary's `channel_labels`.
    """
    total = 0
    channel: Counter[str] = Counter()
    kind: Counter[str] = Counter()
    category: Counter[str] = Counter()
    district: Counter[str] = Counter()
    street: Counter[tuple[str, str]] = Counter()
    for r in rows:
        total += r.count
        channel[r.channel] += r.count
        kind[r.kind] += r.count
        category[r.category or UNSPECIFIED] += r.count
        district[r.district or UNSPECIFIED] += r.count
        if r.street:
            street[(r.district, r.street)] += r.count
    return card(
        total=total,
        channel=channel,
        kind=kind,
        category=category,
        district=district,
        street=street,
        channel_labels=channel_labels,
        top=top,
    )


def card(
    *,
    total: int,
    channel: Counter[str],
    kind: Counter[str],
    category: Counter[str],
    district: Counter[str],
    street: Counter[tuple[str, str]],
    channel_labels: Mapping[str, str],
    top: int = TOP,
) -> dict[str, Any]:
    """The volume card from per-facet counts (category and district keyed 未注明 when none;
    streets by (district, street), named ones only): what `volumes` gives for the rows those
    counts sum, and what the daily rollup's facets give without the rows."""
    by_channel = _ranked(channel, "channel")
    for item in by_channel:
        item["label"] = channel_labels.get(item["channel"], item["channel"])
    named = Counter({k: n for k, n in category.items() if k != UNSPECIFIED})
    places = Counter({k: n for k, n in district.items() if k != UNSPECIFIED})
    return {
        "total": total,
        "by_channel": by_channel,
        "by_kind": _ranked(kind, "kind"),
        "by_category": _ranked(category, "category"),
        "top_categories": _ranked(named, "category", top),
        "top_districts": _ranked(places, "district", top),
        "top_streets": [
            {"district": d, "street": s, "count": n}
            for (d, s), n in sorted(street.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        ],
    }

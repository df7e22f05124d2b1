"""The hot-issue radar (热点雷达), pure: tickets of a window → clusters with their heat.

A cluster is tickets about the same matter at the same place or for the same group of people:

1. Each ticket gets a *block key* — where or whom it is about, most specific first: a place
   the gazetteer names below street level (compound, road, market, school, hospital…), else a
   group of people named in radar.toml (教师, 出租车司机…), else its street or town. A ticket
   with none of these joins no cluster.
2. Inside a block, two tickets are linked when they share key terms: at least `min_shared`
   when their category is the same, or a term overlap (Jaccard) of at least `cross_jaccard`
   when the router filed them under different categories. Street-level blocks ask one more
   shared term, since a street holds many unrelated matters.
3. Clusters are the connected groups of at least `min_size` tickets (union–find, members in
   number order, so the result depends only on the tickets given, never on their order).

Heat (documented in README "Hot-issue radar"):

    growth  = rate / baseline        rate = people / max(span, 1 day), per day
                                     baseline = (n + 1) / baseline_days, per day, n = tickets
                                     of the cluster's area and category before the window
    recency = 0.5 ** (hours since the last member / half_life),
              half_life = max(half_life_hours, window length / 4)
    heat    = people × recency × (1 + ln(1 + growth))

where people = distinct callers among the members (one caller ringing five times is one).

The id of a cluster is a hash of its block key and its first member: the same members give
the same id in every run, and a cluster keeps its id while it grows.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

# Kinds of gazetteer place precise enough to be "the same place" on their own.
FINE_KINDS = ("compound", "market", "school", "hospital", "road", "other")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class RadarSettings:
    """Thresholds of the radar (data/radar.toml)."""

    min_size: int = 2
    min_shared: int = 2
    cross_jaccard: float = 0.3
    terms_per_ticket: int = 10
    # In windows of at least `df_min_tickets`, a term in more than this share of them is
    # too common to tell matters apart.
    max_df: float = 0.2
    df_min_tickets: int = 50
    baseline_days: int = 28
    half_life_hours: float = 24.0
    terms_shown: int = 5
    groups: tuple[str, ...] = ()
    generic: frozenset[str] = frozenset()
    # Gazetteer places too wide to be "the same place" alone (a whole town area): their
    # tickets need the street level's extra shared term.
    coarse: frozenset[str] = frozenset()
    # Alert: at least `alert_min_count` members in the last `alert_hours`, growing at least
    # `alert_growth` times the baseline rate.
    alert_hours: float = 2.0
    alert_min_count: int = 5
    alert_growth: float = 5.0
    # A new cluster sharing this share of its members with one alerted before is the same.
    alert_overlap: float = 0.5


@dataclass(frozen=True)
class RadarTicket:
    """What the radar knows of one ticket (no complainant data at all)."""

    number: str
    created_at: datetime
    category: str
    place: str  # finest gazetteer place of the matter ("" when none below street level)
    area: str  # street or town, else district ("" when unknown): where the baseline is read
    tokens: tuple[str, ...]  # segmented text without stop words ((): text not to be used)
    street: str = ""  # street or town only: the coarsest block (a district is too wide)
    # An opaque key of who called (a hash, never shown; "": unknown, counted as one person):
    # one caller ringing five times is no burst.
    caller: str = ""


@dataclass(frozen=True)
class Cluster:
    """One cluster, as the API returns it (`tickets` in number order)."""

    id: str
    title: str
    place: str
    area: str
    category: str
    terms: tuple[str, ...]
    count: int
    first_at: datetime
    last_at: datetime
    heat: float
    growth: float
    recent: int  # distinct callers in the last alert_hours before the window's end
    callers: int  # distinct callers among the members
    tickets: tuple[str, ...]

    def alerting(self, settings: RadarSettings) -> bool:
        """A burst: enough members lately, growing well above the place's baseline."""
        return self.recent >= settings.alert_min_count and self.growth >= settings.alert_growth


@dataclass
class _Item:
    ticket: RadarTicket
    key: str
    fine: bool
    terms: frozenset[str] = field(default_factory=frozenset)


def block_key(ticket: RadarTicket, settings: RadarSettings) -> tuple[str, bool]:
    """(where or whom the ticket is about, whether that is finer than a street)."""
    if ticket.place:
        return ticket.place, ticket.place not in settings.coarse
    if settings.groups:
        text = "".join(ticket.tokens)  # 出租车 司机 → 出租车司机
        for group in settings.groups:
            if group in text:
                return group, True
    return ticket.street, False


def key_terms(tokens: Sequence[str], *, drop: Iterable[str], settings: RadarSettings) -> list[str]:
    """A ticket's key terms: its most frequent words of two or more characters with Chinese
    in them, without the generic ones and the place itself; ties in order of first use."""
    places = [d for d in drop if len(d) >= 2]
    generic = settings.generic
    counts = Counter(tokens)  # keeps first-use order: the sort below is stable
    kept = [
        tok
        for tok in counts
        if len(tok) >= 2
        and tok not in generic
        and _CJK.search(tok)
        # 枫林 of 枫林小区: a piece of the place name is no matter
        and not any(tok in d or d in tok for d in places)
    ]
    kept.sort(key=lambda t: -counts[t])
    return kept[: settings.terms_per_ticket]


class _Links:
    """Union–find over item indexes; the smaller index is always the root (deterministic)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def root(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _linked(a: _Item, b: _Item, settings: RadarSettings) -> bool:
    shared = len(a.terms & b.terms)
    need = settings.min_shared + (0 if a.fine else 1)
    if shared < need:
        return False
    if a.ticket.category == b.ticket.category:
        return True
    union = len(a.terms | b.terms)
    return union > 0 and shared / union >= settings.cross_jaccard


def _link_block(
    members: list[int], items: list[_Item], links: _Links, settings: RadarSettings
) -> None:
    """Link the block's pairs that share enough terms, through a term index: only pairs with
    a term in common are looked at (a street can hold thousands of unrelated tickets)."""
    postings: dict[str, list[int]] = {}
    for i in members:
        for term in items[i].terms:
            postings.setdefault(term, []).append(i)
    for i in members:
        shared: Counter[int] = Counter()
        for term in items[i].terms:
            for j in postings[term]:
                if j > i:
                    shared[j] += 1
        need = settings.min_shared + (0 if items[i].fine else 1)
        for j, n in shared.items():
            if (
                n >= need
                and links.root(i) != links.root(j)
                and _linked(items[i], items[j], settings)
            ):
                links.join(i, j)


def cluster_id(key: str, first_number: str) -> str:
    """Stable id: the block key and the cluster's first member."""
    return hashlib.sha256(f"{key}\x1f{first_number}".encode()).hexdigest()[:16]


def heat_of(
    *,
    count: int,
    first_at: datetime,
    last_at: datetime,
    end: datetime,
    baseline_count: int,
    settings: RadarSettings,
    half_life_hours: float | None = None,
) -> tuple[float, float]:
    """(heat, growth) of a cluster; see the module docstring."""
    half_life = half_life_hours or settings.half_life_hours
    # At least a day: two calls a minute apart are not a rate of 2,880 a day.
    span_days = max((last_at - first_at).total_seconds(), 86400.0) / 86400.0
    rate = count / span_days
    baseline = (baseline_count + 1) / settings.baseline_days
    growth = rate / baseline
    age_h = max((end - last_at).total_seconds(), 0.0) / 3600.0
    recency = 0.5 ** (age_h / half_life)
    heat = count * recency * (1.0 + math.log1p(growth))
    return round(heat, 4), round(growth, 2)


@dataclass
class ClusterMemo:
    """What one clustering learnt, for the next over an overlapping window (the background
    worker's 24-hour window, every 5 minutes): each ticket's key terms, and each place
    block's groups. A block whose members and their terms are unchanged keeps its groups;
    only blocks that gained, lost or changed a ticket are linked again. Reusing it gives
    exactly what a fresh run gives (`find_clusters` without a memo)."""

    settings: RadarSettings | None = None
    # number → (the ticket, its block key, finer than a street?, its key terms before the
    # window's too-common ones are dropped): all depend on the ticket and the settings only
    terms: dict[str, tuple[RadarTicket, str, bool, list[str]]] = field(default_factory=dict)
    # block key → (what its links depend on, its groups of at least min_size: numbers)
    blocks: dict[str, tuple[tuple[object, ...], list[tuple[str, ...]]]] = field(
        default_factory=dict
    )
    reused_blocks: int = 0  # in the last run: blocks whose groups were reused …
    linked_blocks: int = 0  # … and blocks linked again


def find_clusters(
    tickets: Iterable[RadarTicket],
    *,
    end: datetime,
    start: datetime | None = None,
    baseline: Mapping[tuple[str, str], int],
    settings: RadarSettings,
    memo: ClusterMemo | None = None,
) -> list[Cluster]:
    """The clusters among `tickets` (one window, ending at `end`), hottest first.

    `baseline` counts tickets per (area, category) in the `baseline_days` before the window;
    a long window (from `start`) fades slower, so its older clusters are not all heat 0.
    `memo` (read and updated): the previous run's terms and groups, so an overlapping window
    links again only the blocks that changed; the result is the same as without it.
    """
    half_life = settings.half_life_hours
    if start is not None:
        half_life = max(half_life, (end - start).total_seconds() / 3600.0 / 4)
    if memo is not None and memo.settings != settings:
        memo.settings, memo.terms, memo.blocks = settings, {}, {}
    ordered = sorted(tickets, key=lambda t: t.number)
    items: list[_Item] = []
    raw: dict[int, list[str]] = {}
    seen: dict[str, tuple[RadarTicket, str, bool, list[str]]] = {}
    for t in ordered:
        before = memo.terms.get(t.number) if memo is not None else None
        # The worker's live window hands the same ticket object while the ticket is unchanged.
        if before is not None and (before[0] is t or before[0] == t):
            _, key, fine, terms = before
        else:
            key, fine = block_key(t, settings)
            terms = (
                key_terms(t.tokens, drop=(key, t.place, t.area), settings=settings) if key else []
            )
        seen[t.number] = (t, key, fine, terms)
        if key:
            raw[len(items)] = terms
            items.append(_Item(t, key, fine))
    if memo is not None:
        memo.terms = seen
    common = _too_common(raw.values(), settings)
    for i, it in enumerate(items):
        it.terms = frozenset(t for t in raw[i] if t not in common)
    blocks: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        blocks.setdefault(it.key, []).append(i)
    groups: list[list[int]] = []
    kept: dict[str, tuple[tuple[object, ...], list[tuple[str, ...]]]] = {}
    reused = linked = 0
    for key, members in blocks.items():
        sig = tuple(
            (items[i].ticket.number, items[i].ticket.category, items[i].fine, items[i].terms)
            for i in members
        )
        before = memo.blocks.get(key) if memo is not None else None
        if before is not None and before[0] == sig:
            index = {items[i].ticket.number: i for i in members}
            found = [[index[n] for n in g] for g in before[1]]
            reused += 1
        else:
            found = _block_groups(members, items, settings)
            linked += 1
        groups.extend(found)
        kept[key] = (sig, [tuple(items[i].ticket.number for i in g) for g in found])
    if memo is not None:
        memo.blocks, memo.reused_blocks, memo.linked_blocks = kept, reused, linked
    out = [
        _cluster(
            [items[i] for i in g],
            end=end,
            baseline=baseline,
            settings=settings,
            half_life=half_life,
        )
        for g in groups
    ]
    out.sort(key=lambda c: (-c.heat, -c.count, c.id))
    return out


def _block_groups(
    members: list[int], items: list[_Item], settings: RadarSettings
) -> list[list[int]]:
    """One block's connected groups of at least min_size, members in number order."""
    local = [items[i] for i in members]  # union–find over the block alone
    links = _Links(len(local))
    _link_block(list(range(len(local))), local, links, settings)
    groups: dict[int, list[int]] = {}
    for j, i in enumerate(members):
        groups.setdefault(links.root(j), []).append(i)
    return [g for g in groups.values() if len(g) >= settings.min_size]


def _too_common(term_lists: Iterable[list[str]], settings: RadarSettings) -> set[str]:
    lists = list(term_lists)
    if len(lists) < settings.df_min_tickets:
        return set()
    df: Counter[str] = Counter(t for terms in lists for t in set(terms))
    limit = settings.max_df * len(lists)
    return {t for t, n in df.items() if n > limit}


def _cluster(
    members: list[_Item],
    *,
    end: datetime,
    baseline: Mapping[tuple[str, str], int],
    settings: RadarSettings,
    half_life: float,
) -> Cluster:
    tickets = [m.ticket for m in members]
    first_at = min(t.created_at for t in tickets)
    last_at = max(t.created_at for t in tickets)
    category = _most_common([t.category for t in tickets])
    area = _most_common([t.area for t in tickets])
    key = members[0].key
    term_counts: Counter[str] = Counter(t for m in members for t in m.terms)
    order = {t: i for i, t in enumerate(sorted(term_counts))}
    shared = sorted(
        (t for t, n in term_counts.items() if n >= 2),
        key=lambda t: (-term_counts[t], order[t]),
    )[: settings.terms_shown]
    people = _people(tickets)
    heat, growth = heat_of(
        count=people,
        first_at=first_at,
        last_at=last_at,
        end=end,
        baseline_count=baseline.get((area, category), 0),
        settings=settings,
        half_life_hours=half_life,
    )
    since = end - timedelta(hours=settings.alert_hours)
    place = members[0].key
    label = f"{place}·{category}" if category else place
    title = f"{label}：{'、'.join(shared[:3])}" if shared else label
    return Cluster(
        id=cluster_id(key, tickets[0].number),
        title=title,
        place=place,
        area=area,
        category=category,
        terms=tuple(shared),
        count=len(tickets),
        first_at=first_at,
        last_at=last_at,
        heat=heat,
        growth=growth,
        recent=_people(t for t in tickets if t.created_at > since),
        callers=people,
        tickets=tuple(t.number for t in tickets),
    )


def _people(tickets: Iterable[RadarTicket]) -> int:
    """Distinct callers: each ticket of an unknown caller counts as one."""
    known: set[str] = set()
    unknown = 0
    for t in tickets:
        if t.caller:
            known.add(t.caller)
        else:
            unknown += 1
    return len(known) + unknown


def _most_common(values: list[str]) -> str:
    """The most frequent non-empty value, the smallest on a tie ("" when none)."""
    counts = Counter(v for v in values if v)
    if not counts:
        return ""
    return min(counts, key=lambda v: (-counts[v], v))


def same_cluster(members: Iterable[str], alerted: Iterable[str], settings: RadarSettings) -> bool:
    """Whether a cluster is one alerted before under another id (its first member left the
    window, or two clusters joined): they share `alert_overlap` of the smaller one."""
    a, b = set(members), set(alerted)
    if not a or not b:
        return False
    return len(a & b) >= settings.alert_overlap * min(len(a), len(b))


def fine_place(matches: Iterable[tuple[str, str]]) -> str:
    """The finest place among gazetteer matches (name, kind): the first of the finest kind."""
    best: tuple[int, str] | None = None
    for name, kind in matches:
        if kind in FINE_KINDS:
            rank = FINE_KINDS.index(kind)
            if best is None or rank < best[0]:
                best = (rank, name)
    return best[1] if best else ""


RADAR_FILE = "radar.toml"


@dataclass(frozen=True)
class RadarConfig:
    """data/radar.toml: the radar's settings and the windows of the API and the sweeper."""

    settings: RadarSettings
    window_hours: float = 24.0
    scan_hours: float = 6.0


_SECTIONS = {
    "cluster": {
        "min_size",
        "min_shared",
        "cross_jaccard",
        "terms_per_ticket",
        "max_df",
        "window_hours",
    },
    "heat": {"baseline_days", "half_life_hours"},
    "alert": {"hours", "min_count", "growth", "overlap", "scan_hours"},
}


def load_radar_config(data_dir: str | Path) -> RadarConfig:
    """Read data_dir/radar.toml (defaults when the file is absent); ValueError names a bad key."""
    path = Path(data_dir) / RADAR_FILE
    if not path.exists():
        return RadarConfig(settings=RadarSettings())
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    for name, value in data.items():
        if name in ("groups", "generic", "coarse"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{path}: {name} 必须是字符串列表")
        elif name not in _SECTIONS or not isinstance(value, dict):
            raise ValueError(
                f"{path}: 未知的字段 {name}（允许：cluster、heat、alert、groups、generic、coarse）"
            )
        else:
            unknown = set(value) - _SECTIONS[name]
            if unknown:
                raise ValueError(f"{path}: [{name}] 中未知的字段 {'、'.join(sorted(unknown))}")
            for key, v in value.items():
                if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                    raise ValueError(f"{path}: [{name}] {key} 必须是非负数")
    c, h, a = data.get("cluster", {}), data.get("heat", {}), data.get("alert", {})
    base = RadarSettings()
    settings = RadarSettings(
        min_size=max(int(c.get("min_size", base.min_size)), 2),
        min_shared=max(int(c.get("min_shared", base.min_shared)), 1),
        cross_jaccard=float(c.get("cross_jaccard", base.cross_jaccard)),
        terms_per_ticket=int(c.get("terms_per_ticket", base.terms_per_ticket)),
        max_df=float(c.get("max_df", base.max_df)),
        baseline_days=max(int(h.get("baseline_days", base.baseline_days)), 1),
        half_life_hours=max(float(h.get("half_life_hours", base.half_life_hours)), 0.1),
        alert_hours=float(a.get("hours", base.alert_hours)),
        alert_min_count=int(a.get("min_count", base.alert_min_count)),
        alert_growth=float(a.get("growth", base.alert_growth)),
        alert_overlap=float(a.get("overlap", base.alert_overlap)),
        # Longer names first: 乡村教师 is the block, not 教师 inside it.
        groups=tuple(sorted(data.get("groups", ()), key=lambda g: (-len(g), g))),
        generic=frozenset(data.get("generic", ())),
        coarse=frozenset(data.get("coarse", ())),
    )
    return RadarConfig(
        settings=settings,
        window_hours=float(c.get("window_hours", 24.0)),
        scan_hours=float(a.get("scan_hours", 6.0)),
    )


def parse_moment(text: str, *, end: bool) -> datetime:
    """A window end from the query or the command line: `2026-12-06` (a local day: its start,
    or as the end its following midnight, so the day is included) or an ISO time (without an
    offset: Beijing time). ValueError in Chinese otherwise."""
    from hotline.domain.timefmt import SHANGHAI

    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime.combine(day, time(), tzinfo=SHANGHAI)
            return (start + timedelta(days=1) if end else start).astimezone(UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"时间「{text}」无法识别，请写成 2026-12-06 或 2026-12-06T14:30（北京时间）"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    if not 2000 <= moment.year <= 2099:
        raise ValueError(f"时间「{text}」超出范围（2000–2099 年）")
    return moment.astimezone(UTC)


def cluster_json(c: Cluster) -> dict[str, object]:
    """A cluster as the API and `main.py radar --json` give it (times in Beijing time)."""
    from hotline.domain.timefmt import local_iso

    return {
        "id": c.id,
        "title": c.title,
        "place": c.place,
        "area": c.area,
        "category": c.category,
        "terms": list(c.terms),
        "count": c.count,
        "first_at": local_iso(c.first_at),
        "last_at": local_iso(c.last_at),
        "heat": c.heat,
        "growth": c.growth,
        "recent": c.recent,
        "callers": c.callers,
        "tickets": list(c.tickets),
    }

"""Similar and repeated complaints (重复件), the pure half: how alike two tickets are, and why.

A ticket is reduced to a `Profile`: its words as an l2-normalised TF-IDF vector (rjieba tokens,
sublinear tf, the IDF the classifier learnt from the city's tickets), the places the gazetteer
finds in its title, content and address, its district and street, and the caller's phone.
Two profiles compare to a score in [0, 1] and a reason an operator reads:

- the words: cosine of the vectors (「内容相似度 0.82」);
- the place: the same compound, school, hospital or market adds most; the same road, area or
  street some; two different districts halve the score (the same outage in two
  districts is two matters);
- the caller: the same phone number adds a fixed amount (a caller ringing again about an open
  matter is the commonest repeat of all) and is said first (「同一来电号码」).

Nothing here reads the database: the service gathers candidates and calls `compare`.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

SIMILAR_FILE = "similar.toml"

# Place kinds finer than a street, with the word a reason uses for them.
FINE_PLACES = {
    "compound": "小区",
    "school": "学校",
    "hospital": "医院",
    "market": "市场",
    "road": "道路",
    "other": "地点",
}
STREET_KINDS = ("street", "town")
# Places one can point at (a compound, a school): sharing one says "the same spot". A road or
# an area (星沙, 泉星社区) is long or wide, so it counts as much as the same street does.
POINT_KINDS = frozenset({"compound", "school", "hospital", "market"})


@dataclass(frozen=True)
class Rules:
    """data/similar.toml: weights, thresholds and the candidate window."""

    # A new ticket scoring this much against an open one waits in 疑似重复 (not dispatched).
    hold_threshold: float = 0.5
    # Candidates below this are not shown at all.
    show_threshold: float = 0.3
    # Open tickets created within this many days are candidates.
    window_days: int = 30
    # Added to the text similarity for the same fine place / the same street / the same phone.
    place_bonus: float = 0.25
    street_bonus: float = 0.1
    phone_bonus: float = 0.35
    # Factor when both tickets have a district and they differ.
    other_district_factor: float = 0.5
    # Every channel's new ticket is screened (false: only the console and the API look).
    screen_new: bool = True
    # How many candidates each index may yield before scoring (per phone, place, word).
    per_index: int = 60
    # How many candidates an answer lists.
    limit: int = 10

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> Rules:
        """Rules from the TOML's [similar] table; unknown keys are refused (a typo is loud)."""
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"{SIMILAR_FILE}: unknown keys {sorted(unknown)}")
        rules = cls(**raw)  # type: ignore[arg-type]
        if not 0 < rules.show_threshold <= rules.hold_threshold <= 1:
            raise ValueError(f"{SIMILAR_FILE}: need 0 < show_threshold <= hold_threshold <= 1")
        if rules.window_days < 1 or rules.per_index < 1 or rules.limit < 1:
            raise ValueError(f"{SIMILAR_FILE}: window_days, per_index and limit must be >= 1")
        return rules


def load_rules(data_dir: Path) -> Rules:
    """The rules in data_dir/similar.toml (the defaults when the file is absent)."""
    path = data_dir / SIMILAR_FILE
    if not path.exists():
        return Rules()
    with path.open("rb") as f:
        return Rules.from_mapping(tomllib.load(f).get("similar", {}))


@dataclass(frozen=True)
class Profile:
    """What two tickets are compared by."""

    vector: Mapping[str, float]  # token → weight, l2-normalised
    places: Mapping[str, str]  # fine place name → its kind
    district: str = ""
    street: str = ""
    phone: str = ""


def weigh(tokens: Iterable[str], idf: Callable[[str], float]) -> dict[str, float]:
    """Sublinear tf × idf, l2-normalised (the classifier's weighting, for one text)."""
    counts = Counter(tokens)
    vec = {t: (1.0 + math.log(n)) * idf(t) for t, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {t: v / norm for t, v in vec.items()} if norm else {}


def profile(
    *,
    tokens: Iterable[str],
    places: Iterable[tuple[str, str]],
    idf: Callable[[str], float],
    district: str = "",
    street: str = "",
    phone: str = "",
) -> Profile:
    """A ticket's profile from its tokens and the (name, kind) places found in its text.

    A street or town named in the text stands for the street when the ticket has none.
    """
    fine: dict[str, str] = {}
    for name, kind in places:
        if kind in FINE_PLACES:
            fine.setdefault(name, kind)
        elif kind in STREET_KINDS and not street:
            street = name
    return Profile(weigh(tokens, idf), fine, district, street, phone.strip())


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two l2-normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    # Only shared words add (a missing word's 0.0 leaves a float sum exactly as it was), in
    # the smaller vector's order: the same sum as over every word, without the misses.
    return min(1.0, sum([w * b[t] for t, w in a.items() if t in b]))


@dataclass(frozen=True)
class Match:
    """How alike two tickets are: the score, the reason in Chinese, and its parts."""

    score: float
    reason: str
    text: float
    place: str  # "" | the shared fine place's name | the shared street's name
    same_phone: bool


# Not a gazetteer kind: the two tickets share no place finer than their street.
_SAME_STREET = "=street"


def score(a: Profile, b: Profile, rules: Rules) -> float:
    """`compare(a, b, rules).score` without the reason's words: what ranks every candidate
    (the words are written only for those shown)."""
    return _scored(a, b, rules)[0]


def _scored(a: Profile, b: Profile, rules: Rules) -> tuple[float, float, bool, str, str, bool]:
    """(score, text similarity, same phone, shared place, its kind or `_SAME_STREET`, other
    district): the arithmetic `score` and `compare` share."""
    text = cosine(a.vector, b.vector)
    total = text
    same_phone = bool(a.phone) and a.phone == b.phone
    if same_phone:
        total += rules.phone_bonus
    place, kind = "", ""
    shared = [name for name in a.places if name in b.places]
    if shared:
        # The longest shared name: 「枫林小区二期」 says more than 「枫林」.
        place = max(shared, key=lambda name: (len(name), name))
        # One gazetteer gives a name one kind; min() keeps the pair symmetric regardless.
        kind = min(a.places[place], b.places[place])
        total += rules.place_bonus if kind in POINT_KINDS else rules.street_bonus
    elif a.street and a.street == b.street:
        place, kind = a.street, _SAME_STREET
        total += rules.street_bonus
    elsewhere = bool(a.district and b.district and a.district != b.district)
    if elsewhere:
        total *= rules.other_district_factor
    return round(min(total, 1.0), 3), text, same_phone, place, kind, elsewhere


def compare(a: Profile, b: Profile, rules: Rules) -> Match:
    """The score and reason of `b` as a repeat of `a` (symmetric)."""
    total, text, same_phone, place, kind, elsewhere = _scored(a, b, rules)
    parts: list[str] = []
    if same_phone:
        parts.append("同一来电号码")
    if kind == _SAME_STREET:
        parts.append(f"同一街道（{place}）")
    elif kind:
        parts.append(f"同一{FINE_PLACES[kind]}（{place}）")
    if elsewhere:
        parts.append("不同区县")
    parts.append(f"内容相似度 {text:.2f}")
    return Match(total, "，".join(parts), round(text, 3), place, same_phone)

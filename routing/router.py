"""Pure routing: (text, address, kind, category, confidence) → lead and assisting units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from routing.places import Gazetteer, PlaceMatch
from routing.residence import inside, residence_spans
from routing.rules import KeywordRule, RuleSet

# Most specific first: a street/town place decides over a district one. Places
# filed under a bureau (e.g. a city hospital → 卫健委) say nothing about 属地.
_SPECIFICITY = {"street": 0, "town": 0, "district": 1}


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """Where a ticket goes and why."""

    lead_unit: str
    assisting_units: tuple[str, ...]
    category: str
    confidence: float
    needs_review: bool
    rule: str
    place: str | None
    # Where the matter is, as the 热点区域 figures file it ("" when no place is named).
    district: str = ""
    street: str = ""


def route(
    *,
    rules: RuleSet,
    gazetteer: Gazetteer,
    text: str,
    address: str | None,
    kind: str | None,
    category: str | None,
    confidence: float,
    top3: Sequence[Any] | None = None,
) -> RoutingDecision:
    """Route one ticket: keywords > category (属地 via places) > fallback, then kind rules."""
    text = text or ""
    address = address or ""
    kind_rule = rules.kinds.get(kind or "")
    notes: list[str] = []
    addr_places = gazetteer.find(address)
    text_places, home_places = _split_homes(gazetteer.find(text), residence_spans(text))
    if home_places and (not text_places and not addr_places):
        if kind_rule is not None and kind_rule.exclude_named:
            # A reporter's home is where to reach them, not where the wrongdoing is: the
            # report would go to their own street office. The kind and category rules decide.
            notes.append(f"「{home_places[0].matched}」是{kind_rule.kind}人的住址，不作为事发地点")
        else:
            text_places = home_places  # a noise at home: the home is the place of the matter
    local = _local_place(rules, addr_places) or _local_place(rules, text_places)

    picked = _by_keyword(rules, text, category, addr_places + text_places, local, notes)
    used_category = category or ""
    only_fallback = False
    if picked is None:
        picked, used_category = _by_category(rules, category, top3, local, notes)
    if picked is None:
        only_fallback = True
        empty: tuple[str, ...] = ()
        lead, assist, place = rules.fallback, empty, None
        notes.append(f"未匹配任何规则 → 兜底单位 {rules.unit_name(rules.fallback)}")
    else:
        lead, assist, place = picked

    needs_review = only_fallback or confidence < rules.review_threshold
    if not only_fallback and confidence < rules.review_threshold:
        notes.append(f"分类置信度 {confidence:.2f} 低于复核阈值 {rules.review_threshold:.2f}")
    if rules.review_margin and _close_call(top3, rules.review_margin):
        needs_review = True
        notes.append("前两个分类的概率接近，需人工复核")

    if kind_rule is not None:
        if kind_rule.exclude_named:
            lead, assist = _avoid_named(
                rules, kind_rule.kind, kind_rule.supervisor, text, lead, assist, notes
            )
        if kind_rule.review:
            needs_review = True
            notes.append(f"{kind_rule.kind}件一律人工复核")
        # nobody left to take a report on everyone named: an operator must decide
        needs_review = needs_review or lead == rules.fallback

    district, street = gazetteer.locate(addr_places + text_places)
    return RoutingDecision(
        lead_unit=lead,
        assisting_units=assist,
        category=used_category,
        confidence=confidence,
        needs_review=needs_review,
        rule="；".join(notes),
        place=place,
        district=district,
        street=street,
    )


def _split_homes(
    places: list[PlaceMatch], homes: list[tuple[int, int]]
) -> tuple[list[PlaceMatch], list[PlaceMatch]]:
    """(places of the matter, places inside a stated residence such as 住在…)."""
    if not homes:
        return places, []
    matter = [p for p in places if not inside(p.start, p.end, homes)]
    return matter, [p for p in places if inside(p.start, p.end, homes)]


def _local_place(rules: RuleSet, places: list[PlaceMatch]) -> PlaceMatch | None:
    """The most specific place (street/town over district), earliest on ties."""
    best: PlaceMatch | None = None
    best_rank = 99
    for p in places:
        unit = rules.units.get(p.unit)
        rank = _SPECIFICITY.get(unit.kind, 99) if unit else 99
        if rank < best_rank:
            best, best_rank = p, rank
    return best


def _assist(*groups: Sequence[str] | None, lead: str) -> tuple[str, ...]:
    out: list[str] = []
    for group in groups:
        for code in group or ():
            if code and code != lead and code not in out:
                out.append(code)
    return tuple(out)


def _localise(
    rules: RuleSet, lead: str | None, assist: tuple[str, ...], place: PlaceMatch | None
) -> tuple[str, tuple[str, ...], str | None] | None:
    """属地: the place's unit leads and the rule's own units assist."""
    if place is not None:
        return place.unit, _assist([lead] if lead else [], assist, lead=place.unit), place.name
    if lead is not None:
        return lead, _assist(assist, lead=lead), None
    return None


def _describe_local(
    rules: RuleSet, head: str, place: PlaceMatch | None, lead: str, assist: tuple[str, ...]
) -> str:
    if place is None:
        return f"{head}属地管理但未识别地点 → {rules.unit_name(lead)}"
    tail = ""
    if assist:
        tail = f"（协办：{'、'.join(rules.unit_name(c) for c in assist)}）"
    return f"{head}属地管理：地点「{place.name}」→ {rules.unit_name(lead)}{tail}"


def _by_keyword(
    rules: RuleSet,
    text: str,
    category: str | None,
    places: list[PlaceMatch],
    local: PlaceMatch | None,
    notes: list[str],
) -> tuple[str, tuple[str, ...], str | None] | None:
    for kw in rules.keywords:
        if not kw.applies_to(category):
            continue
        hit = kw.match(text, places)
        if hit is None:
            continue
        head = _keyword_head(kw, hit)
        if kw.local:
            picked = _localise(rules, kw.lead, kw.assist, local)
            if picked is None:
                # a 属地-only rule cannot decide without a place; let later rules try
                notes.append(f"{head}需属地承办但未识别地点，继续按分类分派")
                continue
            notes.append(
                _describe_local(rules, head, local if picked[2] else None, picked[0], picked[1])
            )
            return picked
        assert kw.lead is not None  # validated at load time
        notes.append(f"{head}→ {rules.unit_name(kw.lead)}")
        place = hit.name if isinstance(hit, PlaceMatch) else None
        return kw.lead, _assist(kw.assist, lead=kw.lead), place
    return None


def _keyword_head(kw: KeywordRule, hit: str | PlaceMatch) -> str:
    if isinstance(hit, PlaceMatch):
        return f"地点「{hit.name}」"
    return f"关键词「{hit}」"


def _top_labels(top3: Sequence[Any] | None) -> list[tuple[str, float]]:
    """Accept [(label, prob), …] or [{'label'/'category': …, 'prob'/'score': …}, …]."""
    out: list[tuple[str, float]] = []
    for item in top3 or ():
        if isinstance(item, dict):
            label = item.get("label", item.get("category"))
            prob = item.get("prob", item.get("probability", item.get("score", 0.0)))
        else:
            label, prob = item[0], item[1]
        out.append((str(label), float(prob)))
    return out


def _close_call(top3: Sequence[Any] | None, margin: float) -> bool:
    probs = sorted((p for _, p in _top_labels(top3)), reverse=True)
    return len(probs) >= 2 and probs[0] - probs[1] < margin


def _by_category(
    rules: RuleSet,
    category: str | None,
    top3: Sequence[Any] | None,
    local: PlaceMatch | None,
    notes: list[str],
) -> tuple[tuple[str, tuple[str, ...], str | None] | None, str]:
    candidates = [category] if category else []
    # a category without a rule may still have a runner-up that has one
    candidates += [label for label, _ in _top_labels(top3) if label not in candidates]
    for i, name in enumerate(candidates):
        rule = rules.categories.get(name or "")
        if rule is None:
            continue
        head = f"分类「{name}」" if i == 0 and name == category else f"备选分类「{name}」"
        if rule.local:
            picked = _localise(rules, rule.lead, rule.assist, local)
            assert picked is not None
            notes.append(_describe_local(rules, head, local, picked[0], picked[1]))
            return picked, name
        tail = ""
        if rule.assist:
            tail = f"（协办：{'、'.join(rules.unit_name(c) for c in rule.assist)}）"
        notes.append(f"{head}→ {rules.unit_name(rule.lead)}{tail}")
        return (rule.lead, rule.assist, None), name
    return None, category or ""


def _avoid_named(
    rules: RuleSet,
    kind: str,
    supervisor: str | None,
    text: str,
    lead: str,
    assist: tuple[str, ...],
    notes: list[str],
) -> tuple[str, tuple[str, ...]]:
    """A unit reported on, its superiors and its subordinates neither lead nor assist.

    Its superior is avoided too: it could pass the report down to the very unit (下派).
    """
    avoided = rules.avoided(kind, text)
    new_lead = lead
    if lead in avoided:
        target, how = supervisor, "监督单位"
        if target is None or target in avoided:
            target, how = rules.fallback, "兜底单位"
        new_lead = target
        notes.append(f"{kind}件：回避{avoided[lead].reason} → {how} {rules.unit_name(new_lead)}")
    kept = tuple(c for c in assist if c != new_lead and c not in avoided)
    dropped = [c for c in assist if c not in kept and c != new_lead]
    if dropped:
        notes.append(
            f"{kind}件：被举报单位及其上下级不参与协办（"
            f"{'、'.join(rules.unit_name(c) for c in dropped)}）"
        )
    return new_lead, kept

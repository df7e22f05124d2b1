"""Similar and repeated complaints (重复件): find the open tickets a text probably repeats.

Candidates are gathered through indexes only, so the answer stays fast at a million tickets:
open tickets created within the window (data/similar.toml `window_days`) that share the
caller's phone (ticket.complainant_phone), the street (ticket(street, created_at)), or one of
the text's key words or place names (the full-text index, `hotline.services.fulltext.match`,
limited to ids of the window). At most `per_index` per index; the union is scored by
`hotline.domain.similar.compare` and the best shown.

View rules: a unit is offered only tickets it holds, compared and titled by what units read
(`unit_text_of`), and never by phone — 「同一来电号码」 would tell a unit who reported a 举报.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.auth import Principal
from hotline.domain.fulltext import parse_query, runs
from hotline.domain.lifecycle import OPEN_STATUSES, Role
from hotline.domain.models import Ticket
from hotline.domain.similar import Profile, Rules, compare, load_rules, profile, score
from hotline.privacy.confirmed import needs_confirmation, unit_text_of
from hotline.runtime.deployment import Deployment
from hotline.services import fulltext
from hotline.services.rate_sql import placeholders, stored_time, when
from hotline.services.ticket_search import STAFF_COLUMNS, TICKETS, UNIT_COLUMNS

OPEN_VALUES = [s.value for s in OPEN_STATUSES]
# Key words of the probe searched in the full-text index, place names first: one statement
# each, on the path of every new ticket, so few: the place names and the heaviest words.
KEY_TERMS = 3
_EXTRAS = "similar"
PROFILE_CACHE = 10_000


@dataclass(frozen=True)
class Probe:
    """What is compared: a new call's words and place, or an existing ticket's."""

    text: str
    title: str = ""
    address: str = ""
    district: str = ""
    street: str = ""
    phone: str = ""
    exclude_id: int | None = None


@dataclass(frozen=True)
class Similar:
    """One candidate as the API lists it."""

    number: str
    title: str
    status: str
    score: float
    reason: str
    created_at: datetime


class Scorer:
    """The deployment's tokeniser, IDF, gazetteer and rules, loaded once."""

    def __init__(self, deployment: Deployment) -> None:
        from classifier.tokenize import tokenize

        self.rules: Rules = load_rules(deployment.data_dir)
        self._tokenize = tokenize
        router = deployment.router
        self._gazetteer = router.routing.gazetteer if router is not None else None
        idf: dict[str, float] = {}
        default = 1.0
        model = deployment.model
        if model is not None and len(model.word_vocab):
            # The classifier's IDF over the city's tickets; unseen words count as the rarest.
            idf = {
                w: float(v)
                for w, v in zip(model.word_vocab, model.word_idf, strict=True)
                if " " not in w
            }
            default = float(max(model.word_idf))
        self.idf: Callable[[str], float] = lambda t: idf.get(t, default)
        # Candidates' profiles by what they are made of (title, text, address, place, phone):
        # the console asks again at every pause in typing, mostly about the same open tickets.
        # Keyed by the inputs, not a ticket id, so a changed or another database's ticket
        # can never be scored with a stale profile.
        self._profiles: OrderedDict[tuple[str, ...], Profile] = OrderedDict()

    def cached_profile(self, inputs: dict[str, str]) -> Profile:
        """`profile(**inputs)`, from the cache or made (and kept, the oldest dropped)."""
        key = tuple(inputs.values())
        found = self._profiles.get(key)
        if found is None:
            found = self._profiles[key] = self.profile(**inputs)
            if len(self._profiles) > PROFILE_CACHE:
                self._profiles.popitem(last=False)
        return found

    def places(self, text: str) -> list[tuple[str, str]]:
        """(name, kind) of the gazetteer's places in the text."""
        if self._gazetteer is None:
            return []
        return [(m.name, m.kind) for m in self._gazetteer.find(text)]

    def profile(
        self,
        *,
        text: str,
        title: str = "",
        address: str = "",
        district: str = "",
        street: str = "",
        phone: str = "",
    ) -> Profile:
        """A text's profile (its address is searched for places, not weighed as words).

        The title counts twice: it names the matter, where the text also tells the story
        (bench/similar.py: recall 0.73 → 0.79 at the same precision on the labelled pairs).
        """
        return profile(
            tokens=self._tokenize(f"{title}\n{title}\n{text}" if title else text),
            places=self.places(f"{title}\n{text}\n{address}"),
            idf=self.idf,
            district=district,
            street=street,
            phone=phone,
        )


def scorer(deployment: Deployment) -> Scorer:
    """The deployment's scorer (built on first use, kept with the deployment)."""
    found = deployment.extras.get(_EXTRAS)
    if found is None:
        found = deployment.extras[_EXTRAS] = Scorer(deployment)
    return found


def _key_terms(p: Profile, text: str) -> list[str]:
    """Place names, then the heaviest words: what the full-text index is asked for."""
    terms = list(p.places)[:KEY_TERMS]
    held = runs(text)
    for word, _ in sorted(p.vector.items(), key=lambda kv: -kv[1]):
        if len(terms) >= KEY_TERMS:
            break
        # A word of two or more characters that the text really holds (rjieba's tokens are
        # normalised; the index holds the text's own characters).
        if len(word) >= 2 and word not in terms and any(word in r for r in held):
            terms.append(word)
    return terms


async def _first_id_since(since: datetime) -> int:
    """The first ticket id created at or after `since` (a huge id when there is none)."""
    row = (
        await Ticket.filter(created_at__gte=since)
        .order_by("created_at")
        .limit(1)
        .values_list("id", flat=True)
    )
    return int(row[0]) if row else 1 << 62


async def _candidate_ids(
    probe: Probe, p: Profile, *, since: datetime, rules: Rules, principal: Principal | None
) -> set[int]:
    if principal is None or principal.role != Role.UNIT:
        ids = await _staff_candidate_ids(probe, p, since=since, rules=rules)
    else:
        ids = await _unit_candidate_ids(probe, p, since=since, rules=rules, principal=principal)
    if probe.exclude_id is not None:
        ids.discard(probe.exclude_id)
    return ids


async def _staff_candidate_ids(
    probe: Probe, p: Profile, *, since: datetime, rules: Rules
) -> set[int]:
    """The centre's candidate ids, as `_staff_candidates` reads them."""
    union = _staff_union(probe, p, since=since, rules=rules)
    if union is None:
        return set()
    sql, params = union
    conn = Ticket._meta.db
    _, rows = await conn.execute_query(placeholders(conn.capabilities.dialect, sql), params)
    return {int(next(iter(dict(r).values()))) for r in rows}


# What the centre's scoring reads of a candidate (not the 35 columns of a `Ticket`).
STAFF_READ = (
    "id", "number", "title", "status", "created_at",
    "content", "address", "district", "street", "complainant_phone",
)  # fmt: skip


async def _staff_candidates(
    probe: Probe, p: Profile, *, since: datetime, rules: Rules
) -> list[_Candidate]:
    """The centre's open candidates of the window, ids and rows in one statement
    (`staff_read`)."""
    read = staff_read(probe, p, since=since, rules=rules)
    if read is None:
        return []
    conn = Ticket._meta.db
    _, rows = await conn.execute_query(placeholders(conn.capabilities.dialect, read[0]), read[1])
    return candidates_of(rows)


def staff_read(
    probe: Probe, p: Profile, *, since: datetime, rules: Rules
) -> tuple[str, list[Any]] | None:
    """The centre's candidates as one read (`?` placeholders), None when nothing is searched.

    This runs before every new ticket (intake sends it with the trip that takes the ticket's
    number, `hotline.services.one_trip`): the id `UNION` of `_staff_union` is the `IN` of the
    row read, so one statement gives what the ids read and the `Ticket` read after it gave,
    and only the columns scoring needs (`STAFF_READ`) come back: no model built, no JSON or
    dates parsed for candidates that are not shown.
    """
    union = _staff_union(probe, p, since=since, rules=rules)
    if union is None:
        return None
    sql, params = union
    marks = ", ".join("?" for _ in OPEN_VALUES)
    read = (
        f"SELECT {', '.join(STAFF_READ)} FROM {Ticket._meta.db_table} WHERE id IN ({sql})"
        f" AND status IN ({marks}) AND created_at >= ?"
    )
    params = [*params, *OPEN_VALUES, stored_time(Ticket._meta.db.capabilities.dialect, since)]
    if probe.exclude_id is not None:
        read += " AND id <> ?"
        params.append(probe.exclude_id)
    return read, params


def candidates_of(rows: Iterable[Mapping[str, Any]]) -> list[_Candidate]:
    """Candidates from the rows of `staff_read` (any mapping by column name)."""
    return [
        _Candidate(
            number=r["number"],
            title=r["title"],
            status=r["status"],
            created_at=r["created_at"],
            inputs={
                "text": r["content"],
                "title": r["title"],
                "address": r["address"],
                "district": r["district"],
                "street": r["street"],
                "phone": r["complainant_phone"],
            },
        )
        for r in rows
    ]


def _staff_union(
    probe: Probe, p: Profile, *, since: datetime, rules: Rules
) -> tuple[str, list[Any]] | None:
    """The centre's candidate ids as one SQL `UNION` (`?` placeholders), None when nothing
    is searched.

    The same sets as one read per index would give, UNIONed: the newest `2 * per_index` open
    tickets of the window with the caller's phone or on the street, and per key word the
    newest `per_index` documents of the window that the full-text index matches. The
    window's first id is a scalar subquery (read once, through the created_at index); on
    PostgreSQL the match is the GIN bitmap sorted by `id + 0`, as `fulltext.match` does,
    without its per-match transaction (newest id, SET LOCAL): a window's ids are few.
    """
    conn = Ticket._meta.db
    dialect = conn.capabilities.dialect
    table = Ticket._meta.db_table
    at = stored_time(dialect, since)
    parts: list[str] = []
    params: list[Any] = []
    same: list[str] = []
    if p.phone:
        same.append("complainant_phone = ?")
        params.append(p.phone)
    if p.street:
        same.append("street = ?")
        params.append(p.street)
    if same:
        marks = ", ".join("?" for _ in OPEN_VALUES)
        parts.append(
            f"SELECT id FROM (SELECT id FROM {table} WHERE ({' OR '.join(same)})"
            f" AND created_at >= ? AND status IN ({marks}) ORDER BY id DESC LIMIT ?) AS same_place"
        )
        params += [at, *OPEN_VALUES, 2 * rules.per_index]
    first = f"(SELECT id FROM {table} WHERE created_at >= ? ORDER BY created_at LIMIT 1)"
    index = TICKETS.table
    for n, term in enumerate(_key_terms(p, f"{probe.title}\n{probe.text}")):
        query = parse_query(term)
        if not query:
            continue
        if dialect == "postgres":
            phrases = []
            for phrase in query.single_phrases():
                params.append(phrase.tsquery())
                phrases.append("(" + " OR ".join(f"{c} @@ ?::tsquery" for c in STAFF_COLUMNS) + ")")
                # One parameter per use: `placeholders` numbers every `?`.
                params += [phrase.tsquery()] * (len(STAFF_COLUMNS) - 1)
            match, key, newest = " AND ".join(phrases), "id", "id + 0"
        else:
            match, key, newest = f"{index} MATCH ?", "rowid", "rowid"
            params.append(query.fts5(STAFF_COLUMNS))
        parts.append(
            f"SELECT {key} FROM (SELECT {key} FROM {index} WHERE {match} AND {key} >= {first}"
            f" ORDER BY {newest} DESC LIMIT ?) AS term_{n}"
        )
        params += [at, rules.per_index]
    if not parts:
        return None
    return " UNION ".join(parts), params


async def _unit_candidate_ids(
    probe: Probe, p: Profile, *, since: datetime, rules: Rules, principal: Principal
) -> set[int]:
    """A unit's candidates: only tickets it holds, one read per index (not on intake's path)."""
    base = Ticket.filter(
        created_at__gte=since,
        status__in=OPEN_VALUES,
        unit_links__unit_id=principal.unit_id,
        unit_links__active=True,
    )
    ids: set[int] = set()
    if p.street:
        ids |= set(
            await base.filter(street=p.street)
            .order_by("-id")
            .limit(2 * rules.per_index)
            .values_list("id", flat=True)
        )
    terms = _key_terms(p, f"{probe.title}\n{probe.text}")
    first = await _first_id_since(since) if terms else 1 << 62
    if first < 1 << 62:
        within: tuple[str, list[Any]] = (
            "{id} >= ? AND EXISTS (SELECT 1 FROM ticket_unit tu WHERE tu.ticket_id = {id}"
            " AND tu.unit_id = ? AND tu.active = ?)",
            [first, principal.unit_id, True],
        )
        conn = Ticket._meta.db
        for term in terms:
            hits = await fulltext.match(
                conn,
                TICKETS,
                parse_query(term),
                columns=UNIT_COLUMNS,
                within=within,
                cap=rules.per_index,
            )
            ids.update(hits.ids)
    return ids


@dataclass(frozen=True)
class _Candidate:
    """One open ticket of the window as scoring reads it; `created_at` as stored (parsed
    only when the candidate is shown)."""

    number: str
    title: str
    status: str
    created_at: Any
    inputs: dict[str, str]


async def find_similar(
    *,
    probe: Probe,
    deployment: Deployment,
    now: datetime,
    principal: Principal | None = None,
    limit: int | None = None,
) -> list[Similar]:
    """The open, recent tickets `probe` probably repeats, best first (score ≥ show_threshold).

    `principal` None: the system's own check of a new ticket (every ticket, phone included).
    """
    s = scorer(deployment)
    rules = s.rules
    unit = principal is not None and principal.role == Role.UNIT
    p = s.profile(
        text=probe.text,
        title=probe.title,
        address=probe.address,
        district=probe.district,
        street=probe.street,
        phone="" if unit else probe.phone,
    )
    since = now - timedelta(days=rules.window_days)
    if unit:
        candidates = await _unit_candidates(probe, p, since=since, rules=rules, principal=principal)
    else:
        candidates = await _staff_candidates(probe, p, since=since, rules=rules)
    return rank(s, p, candidates, limit=limit)


def rank(
    s: Scorer, p: Profile, candidates: list[_Candidate], *, limit: int | None = None
) -> list[Similar]:
    """The candidates resembling profile `p`, best first (score ≥ show_threshold), at most
    `limit` (the rules' limit by default)."""
    rules = s.rules
    # Every candidate is scored; only those listed get their reason written and their
    # creation time read (the time orders equal scores).
    show = rules.show_threshold
    scored = [
        (sc, c) for c in candidates if (sc := score(p, s.cached_profile(c.inputs), rules)) >= show
    ]
    scored.sort(key=lambda sc_c: -sc_c[0])
    limit = limit or rules.limit
    if len(scored) > limit:
        last = scored[limit - 1][0]
        scored = [sc_c for sc_c in scored if sc_c[0] >= last]
    listed = sorted(
        ((sc, _created(c.created_at), c) for sc, c in scored),
        key=lambda t: (-t[0], -t[1].timestamp()),
    )
    found = []
    for _, created, c in listed[:limit]:
        match = compare(p, s.cached_profile(c.inputs), rules)
        found.append(Similar(c.number, c.title, c.status, match.score, match.reason, created))
    return found


def _created(value: Any) -> datetime:
    """A candidate's creation time as the ORM gives it (asyncpg: a datetime; SQLite: the UTC
    text tortoise wrote, read here by `datetime.fromisoformat`)."""
    return Ticket._meta.fields_map["created_at"].to_python_value(when(value))


async def _unit_candidates(
    probe: Probe, p: Profile, *, since: datetime, rules: Rules, principal: Principal | None
) -> list[_Candidate]:
    """A unit's open candidates of the window, as its staff read them."""
    ids = await _candidate_ids(probe, p, since=since, rules=rules, principal=principal)
    if not ids:
        return []
    return [
        _Candidate(
            ticket.number,
            unit_text_of(ticket).title,
            ticket.status,
            ticket.created_at,
            _candidate_inputs(ticket, unit=True),
        )
        for ticket in await Ticket.filter(
            id__in=list(ids), status__in=OPEN_VALUES, created_at__gte=since
        )
    ]


def _candidate_inputs(ticket: Ticket, unit: bool) -> dict[str, str]:
    """What a candidate's profile is made of: as the centre reads it, or as its units do
    (their text, no address of a 举报, no phone)."""
    if unit:
        shown = unit_text_of(ticket)
        return {
            "text": shown.text,
            "title": shown.title,
            "address": "" if _hidden(ticket) else ticket.address,
            "district": ticket.district,
            "street": ticket.street,
            "phone": "",
        }
    return {
        "text": ticket.content,
        "title": ticket.title,
        "address": ticket.address,
        "district": ticket.district,
        "street": ticket.street,
        "phone": ticket.complainant_phone,
    }


def _hidden(ticket: Ticket) -> bool:
    """A 举报 or confidential ticket: units read no address of it."""
    return needs_confirmation(kind=ticket.kind, confidential=ticket.confidential)


def probe_of(ticket: Ticket, *, unit: bool = False) -> Probe:
    """An existing ticket as a probe (a unit's: the text units read, no phone)."""
    if unit:
        shown = unit_text_of(ticket)
        return Probe(
            text=shown.text,
            title=shown.title,
            address="" if _hidden(ticket) else ticket.address,
            district=ticket.district,
            street=ticket.street,
            exclude_id=ticket.id,
        )
    return Probe(
        text=ticket.content,
        title=ticket.title,
        address=ticket.address,
        district=ticket.district,
        street=ticket.street,
        phone=ticket.complainant_phone,
        exclude_id=ticket.id,
    )


def place_of(deployment: Deployment, text: str, address: str) -> tuple[str, str]:
    """(district, street) where the gazetteer files a text, as intake does."""
    router = deployment.router
    if router is None:
        return "", ""
    gazetteer = router.routing.gazetteer
    return gazetteer.locate(gazetteer.find(f"{text}\n{address}"))


def as_dicts(items: Iterable[Similar]) -> list[dict[str, Any]]:
    """Candidates as stored with a hold."""
    return [{"number": i.number, "score": i.score, "reason": i.reason} for i in items]

"""The hot-issue radar over the database: a window's tickets → clusters; bursts → alerts.

Reads only the window's tickets (the `created_at` index) and one grouped count of the
baseline period before it; the clustering and the heat are pure (`hotline.domain.radar`).

What the radar reads of a ticket never includes the complainant: for a 举报 or a confidential
ticket only its confirmed 转办内容 (what a unit may read) gives key terms; before that it is
placed (address and street) but takes part in no cluster's words.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from classifier.tokenize import load_stopwords, load_userwords, segmenter_name, tokenize
from hotline.domain.models import RadarAlert, RadarTerms, Ticket
from hotline.domain.radar import (
    Cluster,
    RadarConfig,
    RadarTicket,
    find_clusters,
    fine_place,
    same_cluster,
)
from hotline.domain.timefmt import SHANGHAI, local_text
from hotline.mail.outbox import enqueue_mail
from hotline.mail.templates import SUBJECT_PREFIX
from hotline.privacy.confirmed import needs_confirmation
from hotline.services.notify import supervisor_recipients
from hotline.services.rate_sql import placeholders, stored_time, when

if TYPE_CHECKING:
    from routing.places import Gazetteer

log = logging.getLogger("hotline.radar")

_FIELDS = (
    "number",
    "created_at",
    "category",
    "title",
    "content",
    "address",
    "street",
    "district",
    "kind",
    "confidential",
    "dispatch_title",
    "dispatch_text",
    "dispatch_confirmed_at",
    "complainant_phone",
    "complainant_openid",
    "complainant_name",
)
# A title says what the matter is in a few words: its words count this many times.
TITLE_WEIGHT = 3
# The text read for key terms: a matter is stated at the start, and segmenting is the radar's
# costliest step (long letters run to thousands of characters).
TEXT_CHARS = 400
_BASELINE = (
    "SELECT CASE WHEN street <> '' THEN street ELSE district END AS area, category,"
    " COUNT(*) AS n FROM ticket WHERE created_at >= ? AND created_at < ? AND category IS NOT NULL"
    " GROUP BY CASE WHEN street <> '' THEN street ELSE district END, category"
)
_CJK = re.compile(r"[\u3400-\u9fff]")
# Tickets tokenised between yields: a long window must not hold the event loop.
_CHUNK = 500


def private(row: dict[str, Any]) -> bool:
    """举报 and confidential tickets: their own words stay out of the radar."""
    return needs_confirmation(kind=row["kind"], confidential=bool(row["confidential"]))


def radar_ticket(
    row: dict[str, Any],
    gazetteer: Gazetteer | None,
    *,
    terms: tuple[str, tuple[str, ...]] | None = None,
) -> RadarTicket:
    """One ticket row as the radar sees it: place, area, category and tokens (`terms`: the
    place and tokens computed before, so nothing is placed or segmented again)."""
    title, body = _words(row)
    if terms is not None:
        place, tokens = terms
    else:
        place = ""
        if gazetteer is not None:
            found = gazetteer.find(f"{row['address']} {title} {body}")
            place = fine_place((m.name, m.kind) for m in found)
        tokens = _tokens(title, body)
    return RadarTicket(
        number=row["number"],
        created_at=when(row["created_at"]),
        category=row["category"] or "",
        place=place,
        area=row["street"] or row["district"] or "",
        street=row["street"] or "",
        tokens=tokens,
        caller=caller_key(row),
    )


def _words(row: dict[str, Any]) -> tuple[str, str]:
    """(title, text) the radar may read: a 举报's or confidential ticket's own words never,
    only its confirmed 转办内容."""
    if private(row):
        confirmed = bool(row["dispatch_confirmed_at"])
        title = (row["dispatch_title"] or "") if confirmed else ""
        body = (row["dispatch_text"] or "") if confirmed else ""
        return title, body
    return row["title"] or "", row["content"] or ""


def _tokens(title: str, body: str) -> tuple[str, ...]:
    """One segmentation of title and text (the costly step); the title's words are repeated
    so they weigh TITLE_WEIGHT times."""
    text = f"{title}。{body[:TEXT_CHARS]}" if title.strip() else body[:TEXT_CHARS]
    if not text.strip():
        return ()
    words = tokenize(text)
    extra = [w for w in words if w in title] * (TITLE_WEIGHT - 1) if title else []
    return tuple(words + extra)


def caller_key(row: dict[str, Any]) -> str:
    """Who called, as an opaque key (a hash): the radar counts people, it shows nobody."""
    who = row["complainant_phone"] or row["complainant_openid"] or row["complainant_name"]
    return hashlib.sha256(who.encode()).hexdigest()[:16] if who else ""


async def window_tickets(
    *, start: datetime, end: datetime, gazetteer: Gazetteer | None
) -> list[RadarTicket]:
    """The unmerged tickets created in [start, end), as the radar sees them.

    A ticket is segmented at most once: what it gave is kept in this process (`_features`)
    and in `radar_terms` for every process; only tickets no one has seen, or whose words,
    address or the tokenizer's or gazetteer's data changed since, are segmented now.
    """
    rows = await window_rows(start=start, end=end)
    return await ticket_views(rows, gazetteer)


async def window_rows(*, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The rows of the unmerged tickets created in [start, end), with their stored terms."""
    conn = Ticket._meta.db
    dialect = conn.capabilities.dialect
    # One read of the window and its stored terms (raw: the ORM's per-value conversion of
    # 44,000 rows cost seconds).
    _, rows = await conn.execute_query(
        placeholders(dialect, _WINDOW),
        [stored_time(dialect, start), stored_time(dialect, end)],
    )
    return [dict(r) for r in rows]


async def rows_by_id(ids: list[int], *, created_from: datetime) -> list[dict[str, Any]]:
    """The rows of these tickets created since `created_from` (merged ones too:
    `merged_into_id` says so), with their stored terms."""
    conn = Ticket._meta.db
    dialect = conn.capabilities.dialect
    out: list[dict[str, Any]] = []
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        sql = _BY_ID.replace("(?)", "(" + ", ".join("?" * len(chunk)) + ")")
        params = [*chunk, stored_time(dialect, created_from)]
        _, rows = await conn.execute_query(placeholders(dialect, sql), params)
        out.extend(dict(r) for r in rows)
    return out


async def ticket_views(
    rows: list[dict[str, Any]], gazetteer: Gazetteer | None
) -> list[RadarTicket]:
    """The radar's view of each row, in order: from this process's memory, else from
    `radar_terms`, else segmented now (and stored for every process)."""
    fingerprint = data_fingerprint(gazetteer)
    keys = [_memo_key(r, fingerprint) for r in rows]
    seen: dict[tuple[Any, ...], RadarTicket] = {}
    missing: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for key, row in zip(keys, rows, strict=True):
        found = _features.get(key)
        if found is None:
            missing.append((key, row))
        else:
            seen[key] = found
    fresh: list[tuple[int, str, str, str]] = []
    for i in range(0, len(missing), _CHUNK):
        for key, row in missing[i : i + _CHUNK]:
            sig = key[-1]
            if row["r_sig"] == sig:
                ticket = radar_ticket(row, None, terms=(row["r_place"], _split(row["r_tokens"])))
            else:
                ticket = _filtered(radar_ticket(row, gazetteer))
                fresh.append((row["id"], sig, ticket.place[:64], _SEP.join(ticket.tokens)))
            seen[key] = ticket
            _remember(key, ticket)
        await asyncio.sleep(0)
    await _store_terms(fresh)
    return [seen[k] for k in keys]


_WINDOW = (
    "SELECT t.id, "
    + ", ".join(f"t.{f}" for f in _FIELDS)
    + ", r.sig AS r_sig, r.place AS r_place, r.tokens AS r_tokens"
    " FROM ticket t LEFT JOIN radar_terms r ON r.ticket_id = t.id"
    " WHERE t.created_at >= ? AND t.created_at < ? AND t.merged_into_id IS NULL"
    " ORDER BY t.created_at, t.id"
)
_BY_ID = (
    "SELECT t.id, t.merged_into_id, "
    + ", ".join(f"t.{f}" for f in _FIELDS)
    + ", r.sig AS r_sig, r.place AS r_place, r.tokens AS r_tokens"
    " FROM ticket t LEFT JOIN radar_terms r ON r.ticket_id = t.id"
    " WHERE t.id IN (?) AND t.created_at >= ?"
)
# Tickets already seen in this process, by what their radar view depends on: each sweep reads
# the last hours again, and decoding stored terms is cheap but not free. Bounded (oldest
# dropped first); tokens kept are only those a key term can be (two or more characters, CJK).
_FEATURES_MAX = 20_000
_features: dict[tuple[Any, ...], RadarTicket] = {}
_SEP = "\x1f"
# Rows written per transaction: a short write lock, so intake does not wait on the radar.
_STORE_CHUNK = 2000
_UPSERT = (
    "INSERT INTO radar_terms (ticket_id, sig, place, tokens) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (ticket_id) DO UPDATE SET sig = excluded.sig, place = excluded.place,"
    " tokens = excluded.tokens"
)


def _filtered(ticket: RadarTicket) -> RadarTicket:
    kept = tuple(t for t in ticket.tokens if len(t) >= 2 and _CJK.search(t) and _SEP not in t)
    return replace(ticket, tokens=kept)


def _split(tokens: str) -> tuple[str, ...]:
    return tuple(tokens.split(_SEP)) if tokens else ()


def _remember(key: tuple[Any, ...], ticket: RadarTicket) -> None:
    if len(_features) >= _FEATURES_MAX:
        _features.pop(next(iter(_features)))
    _features[key] = ticket


def _memo_key(row: dict[str, Any], fingerprint: str) -> tuple[Any, ...]:
    """What the ticket's radar view depends on; the last item is the stored rows' `sig`."""
    return (
        row["number"],
        row["created_at"],
        row["category"],
        row["street"],
        row["district"],
        caller_key(row),
        terms_sig(row, fingerprint),
    )


def terms_sig(row: dict[str, Any], fingerprint: str) -> str:
    """A hash of all the stored terms and place are computed from: the words the radar may
    read (for a 举报, its confirmed 转办内容 only), the address, the tokenizer and gazetteer."""
    title, body = _words(row)
    text = "\x1f".join((title, body, row["address"] or "", fingerprint))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


_fingerprints: dict[tuple[int, int, str, int], str] = {}


def data_fingerprint(gazetteer: Gazetteer | None) -> str:
    """A short hash of the data segmenting and placing depend on (stop words, user words, the
    segmenter, the gazetteer's places): an edit of these makes every stored row stale."""
    stop, user, name = load_stopwords(), load_userwords(), segmenter_name()
    key = (id(stop), id(user), name, id(gazetteer))
    found = _fingerprints.get(key)
    if found is None:
        h = hashlib.blake2b(digest_size=8)
        for part in (sorted(stop), sorted(user), [name, str(TEXT_CHARS), str(TITLE_WEIGHT)]):
            h.update("\x1f".join(part).encode())
            h.update(b"\x1e")
        if gazetteer is not None:
            for p in sorted(gazetteer.places, key=lambda p: (p.name, p.kind)):
                h.update(f"{p.name}\x1f{p.kind}\x1f{'|'.join(p.aliases)}\x1e".encode())
        found = h.hexdigest()
        if len(_fingerprints) >= 8:
            _fingerprints.pop(next(iter(_fingerprints)))
        _fingerprints[key] = found
    return found


async def _store_terms(rows: list[tuple[int, str, str, str]]) -> None:
    """Keep what was segmented now; another process storing the same ticket at the same time
    stores the same values, so the last write is as good as the first."""
    if not rows:
        return
    conn = RadarTerms._meta.db
    sql = placeholders(conn.capabilities.dialect, _UPSERT)
    for i in range(0, len(rows), _STORE_CHUNK):
        async with in_transaction() as tx:
            await tx.execute_many(sql, [list(r) for r in rows[i : i + _STORE_CHUNK]])


_LAST_BEFORE = (
    "SELECT id FROM ticket WHERE created_at < ? ORDER BY created_at DESC, id DESC LIMIT 1"
)
# (days, first local day after the baseline, last ticket before it) → counts. The baseline
# is whole local days before the window's day, so it is the same for every window starting
# that day: counted once a day per process, not at every sweep (0.5 M rows at a big city).
_baseline_cache: dict[tuple[int, str, int | None], dict[tuple[str, str], int]] = {}


async def baseline_counts(*, start: datetime, days: int) -> dict[tuple[str, str], int]:
    """Tickets per (area, category) in the `days` whole local days before `start`'s day."""
    conn = Ticket._meta.db
    dialect = conn.capabilities.dialect
    day_start = start.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    until = stored_time(dialect, day_start)
    # The last ticket before the day tells one database (or a history import) from another.
    _, last = await conn.execute_query(placeholders(dialect, _LAST_BEFORE), [until])
    key = (days, day_start.date().isoformat(), int(last[0]["id"]) if last else None)
    if key in _baseline_cache:
        return _baseline_cache[key]
    params = [stored_time(dialect, day_start - timedelta(days=days)), until]
    _, rows = await conn.execute_query(placeholders(dialect, _BASELINE), params)
    counts = {(r["area"] or "", r["category"] or ""): int(r["n"]) for r in rows}
    if len(_baseline_cache) >= 8:
        _baseline_cache.pop(next(iter(_baseline_cache)))
    _baseline_cache[key] = counts
    return counts


@dataclass(frozen=True)
class RadarRun:
    """One run of the radar: the window and its clusters, hottest first."""

    start: datetime
    end: datetime
    tickets: int
    clusters: list[Cluster]


async def run_radar(
    *, start: datetime, end: datetime, config: RadarConfig, gazetteer: Gazetteer | None
) -> RadarRun:
    """The clusters of the window [start, end)."""
    tickets = await window_tickets(start=start, end=end, gazetteer=gazetteer)
    baseline = await baseline_counts(start=start, days=config.settings.baseline_days)
    clusters = find_clusters(
        tickets, start=start, end=end, baseline=baseline, settings=config.settings
    )
    return RadarRun(start=start, end=end, tickets=len(tickets), clusters=clusters)


# --- alerts --------------------------------------------------------------------------------


async def recent_alerts(*, since: datetime, limit: int = 20) -> list[RadarAlert]:
    """Alerts raised since `since`, newest first (the supervisor dashboard's 热点预警)."""
    return await RadarAlert.filter(created_at__gte=since).order_by("-created_at").limit(limit)


def alert_mail(cluster: Cluster, *, link_base: str) -> tuple[str, str]:
    """(subject, text) of the mail to supervisors about one burst."""
    subject = f"{SUBJECT_PREFIX}热点预警：{cluster.title}（{cluster.count} 件）"
    lines = [
        "督办人员：",
        "",
        f"热点雷达发现一组集中反映的诉求：{cluster.title}",
        f"地点：{cluster.place}    分类：{cluster.category or '未分类'}",
        f"件数：{cluster.count} 件，{cluster.callers} 位来电人"
        f"（{local_text(cluster.first_at)} 至 {local_text(cluster.last_at)}），"
        f"增速为平常的 {cluster.growth:g} 倍",
        f"工单：{'、'.join(cluster.tickets[:30])}"
        + (f" 等 {cluster.count} 件" if cluster.count > 30 else ""),
        "",
        "请打开热点雷达查看，可将这些工单并单，或批量派给同一承办单位：",
        f"{link_base.rstrip('/')}/radar",
    ]
    return subject, "\n".join(lines)


async def raise_alerts(
    run: RadarRun, *, config: RadarConfig, now: datetime, link_base: str
) -> list[str]:
    """Alert each bursting cluster once: an alert row and a mail to supervisors, together.

    The row's unique cluster id is the claim between several sweepers; a cluster that shares
    most members with one alerted lately (its first member has left the window, or it grew
    into another) is the same burst and alerts no more. Returns the ids alerted now.
    """
    settings = config.settings
    bursting = [c for c in run.clusters if c.alerting(settings)]
    if not bursting:
        return []
    lookback = now - timedelta(hours=config.scan_hours + settings.alert_hours + 24)
    earlier = await RadarAlert.filter(created_at__gte=lookback).values("cluster_id", "members")
    raised: list[str] = []
    for cluster in bursting:
        if any(
            e["cluster_id"] == cluster.id or same_cluster(cluster.tickets, e["members"], settings)
            for e in earlier
        ):
            continue
        subject, text = alert_mail(cluster, link_base=link_base)
        try:
            async with in_transaction() as conn:
                await RadarAlert.create(
                    cluster_id=cluster.id,
                    title=cluster.title[:200],
                    place=cluster.place[:64],
                    category=cluster.category[:32],
                    count=cluster.count,
                    heat=cluster.heat,
                    growth=cluster.growth,
                    members=list(cluster.tickets),
                    first_at=cluster.first_at,
                    last_at=cluster.last_at,
                    created_at=now,
                    using_db=conn,
                )
                to = await supervisor_recipients(conn)
                if to:
                    await enqueue_mail(
                        to=to,
                        subject=subject,
                        text=text,
                        html=None,
                        ticket_number=None,
                        reason="radar",
                        now=now,
                        using_db=conn,
                    )
        except IntegrityError:
            continue  # another sweeper alerted this cluster a moment ago
        earlier.append({"cluster_id": cluster.id, "members": list(cluster.tickets)})
        raised.append(cluster.id)
        log.info("radar alert %s: %s (%d tickets)", cluster.id, cluster.title, cluster.count)
    return raised


async def radar_sweep(
    *,
    now: datetime,
    config: RadarConfig,
    gazetteer: Gazetteer | None,
    link_base: str,
    around: list[RadarTicket] | None = None,
) -> list[str]:
    """The sweeper's look at the recent window: alert the clusters bursting now.

    `around`: the tickets of a longer window ending `now` read just before (the stored
    default window's): the recent ones are taken from it instead of being read again."""
    start = now - timedelta(hours=config.scan_hours)
    if around is None or config.scan_hours > config.window_hours:
        run = await run_radar(start=start, end=now, config=config, gazetteer=gazetteer)
    else:
        tickets = [t for t in around if start <= t.created_at < now]
        baseline = await baseline_counts(start=start, days=config.settings.baseline_days)
        clusters = find_clusters(
            tickets, start=start, end=now, baseline=baseline, settings=config.settings
        )
        run = RadarRun(start=start, end=now, tickets=len(tickets), clusters=clusters)
    return await raise_alerts(run, config=config, now=now, link_base=link_base)

"""Benchmark: knowledge-base suggestions for a call's text at 10,000 entries (target ≤ 50 ms).

Fills a database with N entries (titles, a question and answers taken from the shared real
messages and replies — bench fixtures, never shipped — or built-in sentences), written with
the real indexer, then times `hotline.services.knowledge_search.suggest` (the service behind
`GET /api/v1/kb/suggest?q=`) for Q call texts (other messages' details, up to 400 characters):
the signature query, the in-memory TF-IDF ranking, the rows of the five best. Prints the cold
first call (the index is built), the warm median and p95, and the rebuild after one edit.

For comparison it also times the database-side alternative the design note names: the same
text's terms ORed in one full-text query ranked by the database (FTS5 bm25 / ts_rank), top 5.

    python bench/kb.py --smoke
    python bench/kb.py --entries 10000 --database-url sqlite:///tmp/kb_bench.sqlite3
    python bench/kb.py --entries 10000 --database-url postgres://postgres@127.0.0.1:5432/kb_bench
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from hotline.domain.kb_rank import text_terms  # noqa: E402
from hotline.domain.knowledge import KbEntryIn  # noqa: E402
from hotline.domain.models import KbEntry  # noqa: E402
from hotline.domain.vocabulary import load_vocabulary  # noqa: E402
from hotline.runtime.db import close_database, open_database  # noqa: E402
from hotline.services import fulltext  # noqa: E402
from hotline.services.knowledge import KB, document, update_entry  # noqa: E402
from hotline.services.knowledge_search import suggest  # noqa: E402

RAW = REPO_ROOT.parent / "shared" / "data" / "raw" / "tipdm2020_messages_with_replies.csv"
FALLBACK = [
    ("停水怎么办", "小区突然停水了", "临时停水多为管网抢修，一般当天恢复。"),
    ("社保卡补办", "社保卡丢了怎么补", "携带身份证到社保卡服务网点办理。"),
    ("夜间施工噪音", "工地晚上施工很吵", "夜间施工须取得许可，未许可的由城管查处。"),
    ("公积金提取", "买房能取公积金吗", "购房、租房、还贷可申请提取住房公积金。"),
]
BATCH = 2000


def _clean(text: str) -> str:
    return " ".join(text.split())


def material(rng: random.Random) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(title, question, answer) triples for entries, and call texts to suggest for."""
    if not RAW.exists():
        calls = [f"{q}，{t}，请问怎么处理" for t, q, _ in FALLBACK]
        return FALLBACK, calls
    rows = []
    with RAW.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            title, detail, reply = (_clean(row[k]) for k in ("留言主题", "留言详情", "答复意见"))
            if len(title) >= 4 and len(detail) >= 20 and len(reply) >= 20:
                rows.append((title, detail, reply))
    rng.shuffle(rows)
    entries = [(t, d.split("。")[0][:200], r[:600]) for t, d, r in rows]
    calls = [d[:400] for _, d, _ in rows[-500:]]
    return entries, calls


async def fill(n: int, pool: list[tuple[str, str, str]]) -> None:
    """N published entries and their index rows (bulk)."""
    now = datetime.now(UTC)
    made = 0
    while made < n:
        chunk = []
        for i in range(made, min(n, made + BATCH)):
            title, question, answer = pool[i % len(pool)]
            chunk.append(
                KbEntry(
                    title=title[:200],
                    questions=[question],
                    answer=answer,
                    status="published",
                    created_at=now,
                    created_by="bench",
                    changed_at=now,
                    changed_by="bench",
                )
            )
        await KbEntry.bulk_create(chunk)
        made += len(chunk)
    conn = KbEntry._meta.db
    rows = await KbEntry.all().values("id", "title", "questions", "answer", "source_name")
    for start in range(0, len(rows), BATCH):
        await fulltext.put_many(
            conn, KB, ((r["id"], document(r)) for r in rows[start : start + BATCH])
        )


async def database_or(text: str) -> list[int]:
    """The alternative: the text's distinct terms ORed in one database full-text query."""
    conn = KbEntry._meta.db
    words = list(dict.fromkeys(text_terms(text)))[:200]
    if conn.capabilities.dialect == "postgres":
        query = " | ".join("'" + w.replace("'", "''") + "'" for w in words)
        sql = (
            "SELECT id FROM kb_search WHERE body @@ $1::tsquery "
            "ORDER BY ts_rank(body, $1::tsquery) DESC LIMIT 5"
        )
    else:
        query = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        sql = "SELECT rowid FROM kb_search WHERE kb_search MATCH ? ORDER BY bm25(kb_search) LIMIT 5"
    _, rows = await conn.execute_query(sql, [query])
    return [int(next(iter(dict(r).values()))) for r in rows]


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def measure(calls: list[str]) -> None:
    began = time.perf_counter()
    await suggest(text=calls[0], now=datetime.now(UTC))
    cold = (time.perf_counter() - began) * 1000
    timings, found = [], 0
    for text in calls:
        began = time.perf_counter()
        result = await suggest(text=text, now=datetime.now(UTC))
        timings.append((time.perf_counter() - began) * 1000)
        found += bool(result)
    median, p95 = _ms(timings)
    # One edit (through the service, with its history row): the next suggestion re-weighs it.
    entry = await KbEntry.get(id=1)
    await update_entry(
        entry_id=1,
        data=KbEntryIn(title=entry.title + "（修订）", answer=entry.answer, status="published"),
        actor="bench",
        now=datetime.now(UTC),
        words=load_vocabulary(REPO_ROOT / "data"),
    )
    began = time.perf_counter()
    await suggest(text=calls[1], now=datetime.now(UTC))
    rebuilt = (time.perf_counter() - began) * 1000
    alternative = []
    for text in calls[:50]:
        began = time.perf_counter()
        await database_or(text)
        alternative.append((time.perf_counter() - began) * 1000)
    alt_median, alt_p95 = _ms(alternative)
    verdict = "ok" if p95 <= 50 else "OVER"
    print(
        f"suggest (TF-IDF in memory), {len(calls)} calls: median {median:.1f} ms, "
        f"p95 {p95:.1f} ms  target ≤ 50 ms: {verdict}; {found} calls got a suggestion"
    )
    print(
        f"  first call (builds the index) {cold:.0f} ms; "
        f"first call after an edit (re-weighs it) {rebuilt:.0f} ms"
    )
    print(f"database OR query (alternative), 50 calls: median {alt_median:.1f} ms, "
          f"p95 {alt_p95:.1f} ms")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--database-url", default=f"sqlite:///tmp/kb_bench_{time.time_ns()}.db")
    parser.add_argument("--smoke", action="store_true", help="500 entries, 20 calls")
    args = parser.parse_args()
    if args.smoke:
        args.entries, args.calls = 500, 20
    rng = random.Random(12345)
    entries, calls = material(rng)
    url = args.database_url
    ctx = await open_database(url, global_fallback=True)
    try:
        if await KbEntry.all().count() == 0:
            began = time.monotonic()
            await fill(args.entries, entries)
            print(f"filled {args.entries} entries in {time.monotonic() - began:.0f} s",
                  file=sys.stderr)  # fmt: skip
        count = await KbEntry.all().count()
        dialect = KbEntry._meta.db.capabilities.dialect
        print(f"{dialect}, {count} entries, call texts of up to 400 characters")
        await measure((calls * (args.calls // max(1, len(calls)) + 1))[: args.calls])
    finally:
        await close_database(ctx)
        if url.startswith("sqlite://") and "kb_bench_" in url:
            Path(url.removeprefix("sqlite://")).unlink(missing_ok=True)


if __name__ == "__main__":
    asyncio.run(main())

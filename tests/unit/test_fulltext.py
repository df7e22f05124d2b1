"""The pure half of full-text search: index terms, queries and snippets."""

from __future__ import annotations

import sqlite3

from hotline.domain.fulltext import fts5_text, parse_query, snippet, terms, tsvector_literal


def _sqlite_hits(docs: list[str], q: str) -> list[int]:
    """Which documents an FTS5 table (as the index makes it) finds for `q`."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(a, tokenize='unicode61 remove_diacritics 0')")
    for i, doc in enumerate(docs, 1):
        db.execute("INSERT INTO f (rowid, a) VALUES (?, ?)", (i, fts5_text(doc)))
    query = parse_query(q).fts5(("a",))
    rows = db.execute("SELECT rowid FROM f WHERE f MATCH ? ORDER BY rowid", (query,))
    return [r[0] for r in rows]


def test_chinese_is_indexed_as_bigrams_and_words_stay_whole() -> None:
    assert terms("枫林小区3号楼，ＡＢＣ噪音！") == [
        "枫林", "林小", "小区", "区", "3", "号楼", "楼", "abc", "噪音", "音",
    ]  # fmt: skip
    assert tsvector_literal("小区小区") == "'小区':1,3 '区小':2 '区':4"


def test_words_of_any_length_match_exactly_where_the_characters_stand() -> None:
    docs = [
        "枫林小区夜间施工噪音扰民",
        "小区停水，没有通知",
        "枫林路与小区之间",
        "3号楼电梯坏了",
        "联系电话13812345678",
    ]
    assert _sqlite_hits(docs, "枫林小区") == [1]
    assert _sqlite_hits(docs, "噪音") == [1]  # two characters: a trigram index finds nothing
    assert _sqlite_hits(docs, "停水") == [2]
    assert _sqlite_hits(docs, "区停") == [2]
    assert _sqlite_hits(docs, "水没") == []  # a comma stands between 水 and 没
    assert _sqlite_hits(docs, "小区") == [1, 2, 3]
    assert _sqlite_hits(docs, "枫林 小区") == [1, 3]  # both words, anywhere
    assert _sqlite_hits(docs, "梯") == [4]  # one character, even at the end of a run
    assert _sqlite_hits(docs, "3号楼") == [4]
    assert _sqlite_hits(docs, "1381234") == [5]  # the start of a number
    assert not parse_query("？！")


def test_queries_for_postgresql_are_tsquery_literals() -> None:
    assert parse_query("枫林小区 噪 3号").tsquery() == (
        "('枫林' <-> '林小' <-> '小区') & '噪':* & '3':* & '号':*"
    )


def test_the_snippet_marks_the_searched_words_around_the_first_hit() -> None:
    hit = "枫林小区的工地夜间施工噪音很大。"
    text = "来电人反映：" + "今天天气很好。" * 20 + hit + "谢谢。" * 10
    pieces = snippet(text, parse_query("噪音 枫林小区"), width=40)
    assert pieces is not None
    assert [p.text for p in pieces if p.hit] == ["枫林小区", "噪音"]
    assert pieces[0].text == "…" and pieces[-1].text == "…"
    assert sum(len(p.text) for p in pieces if p.text != "…") == 40
    assert snippet("没有要找的词", parse_query("噪音")) is None
    # Full-width letters match their half-width query, and are shown as written.
    marked = snippet("ＡＢＣ公司", parse_query("abc"))
    assert marked is not None and [p.text for p in marked if p.hit] == ["ＡＢＣ"]

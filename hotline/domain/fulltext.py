"""Chinese full-text search, the pure half: index terms, queries and highlighted snippets.

Chinese has no spaces, and the words people search for are often two characters (噪音, 停水),
which a trigram index cannot find. Every text is therefore indexed as overlapping character
bigrams (枫林小区 → 枫林 林小 小区 区) and a query as the phrase of its bigrams, so a search
matches exactly where the characters stand next to each other, at any length, with no
dictionary to go stale (a new compound's name is found the day it first appears). Letters and
digits stay whole words (3号楼 → 3 · 号楼 楼). One character alone is a prefix query.

The same terms feed both databases: SQLite's FTS5 (the terms as space-separated text, read by
its unicode61 tokenizer) and PostgreSQL (a tsvector written as a literal with explicit
positions, so the server's text-search parser and its locale never touch the Chinese).
Any kind of document (tickets now; the knowledge base and similar tickets next) uses this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import add

# Han (with extension A and compatibility ideographs), kana and hangul: scripts without spaces.
_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CHARS}]")
# A stretch of CJK characters, or a word of other letters and digits.
_RUN = re.compile(f"[{_CJK_CHARS}]+|[^\\W_{_CJK_CHARS}]+")
# PostgreSQL stores positions up to 16383; longer texts are indexed up to there.
MAX_POSITION = 16383
MAX_QUERY_PIECES = 12


# Full-width letters and digits (ＡＢＣ１２３) as Chinese input methods type them, folded to
# ASCII. A table rather than NFKC: NFKC rewrites nearly every Chinese text (its full-width
# punctuation) and is the slowest step; this touches only texts holding such a letter, and
# keeps every text's length (snippets cut the original at the folded text's offsets).
_FULL_WIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_FOLD = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF5B)}


def normalise(text: str) -> str:
    """Full-width letters and digits folded (ＡＢＣ１ → abc1), lower case."""
    if _FULL_WIDTH_ALNUM.search(text):
        text = text.translate(_FOLD)
    return text.lower()


def _is_cjk(run: str) -> bool:
    return bool(_CJK.match(run))


def runs(text: str) -> list[str]:
    """The text's runs: maximal stretches of CJK characters, and words of letters or digits."""
    return _RUN.findall(normalise(text))


def run_terms(run: str) -> list[str]:
    """A run's index terms: its bigrams and its last character; a word is one term."""
    if len(run) == 1 or not _is_cjk(run):
        return [run]
    # The last character alone too, so a one-character prefix query finds 区 in 小区.
    return [*map(add, run, run[1:]), run[-1]]


def terms(*texts: str) -> list[str]:
    """Every index term of the texts, in order (positions matter: phrases are adjacent terms)."""
    out: list[str] = []
    for text in texts:
        if text:
            for run in runs(text):
                out += run_terms(run)
    # Positions past PostgreSQL's limit would all be 16383: long texts are cut there.
    return out[:MAX_POSITION]


def fts5_text(*texts: str) -> str:
    """The terms as SQLite FTS5 indexes them (unicode61 splits at the spaces)."""
    return " ".join(terms(*texts))


def tsvector_literal(*texts: str) -> str:
    """The terms as a PostgreSQL tsvector literal with explicit positions ('噪音':3,9 …)."""
    positions: dict[str, list[int]] = {}
    for index, term in enumerate(terms(*texts), start=1):
        positions.setdefault(term, []).append(index)
    return " ".join(f"'{term}':{','.join(map(str, where))}" for term, where in positions.items())


@dataclass(frozen=True)
class Phrase:
    """One run of the query: adjacent terms that must follow each other (or one prefix)."""

    terms: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed search: every phrase must match (AND); `words` are what the user typed."""

    phrases: tuple[Phrase, ...]
    words: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.phrases)

    def fts5(self, columns: tuple[str, ...]) -> str:
        """The FTS5 MATCH expression, limited to `columns`."""
        parts = []
        for phrase in self.phrases:
            quoted = '"' + " ".join(phrase.terms) + '"'
            parts.append(quoted + (" *" if phrase.prefix else ""))
        scope = "{" + " ".join(columns) + "}"
        return f"{scope} : ({' AND '.join(parts)})"

    def single_phrases(self) -> list[Query]:
        """Each phrase as a query of its own (matched column by column, then ANDed)."""
        return [Query((phrase,), ()) for phrase in self.phrases]

    def tsquery(self) -> str:
        """The PostgreSQL tsquery literal: phrases with <->, prefixes with :*, joined by &."""
        parts = []
        for phrase in self.phrases:
            if phrase.prefix:
                parts.append(f"'{phrase.terms[0]}':*")
            elif len(phrase.terms) == 1:
                parts.append(f"'{phrase.terms[0]}'")
            else:
                parts.append("(" + " <-> ".join(f"'{t}'" for t in phrase.terms) + ")")
        return " & ".join(parts)


def parse_query(text: str) -> Query:
    """The phrases to look for: each run of the text (spaces separate the words)."""
    phrases: list[Phrase] = []
    words: list[str] = []
    for run in runs(text)[:MAX_QUERY_PIECES]:
        words.append(run)
        if _is_cjk(run) and len(run) > 1:
            phrases.append(Phrase(tuple(run[i : i + 2] for i in range(len(run) - 1))))
        elif _is_cjk(run):
            phrases.append(Phrase((run,), prefix=True))
        else:
            # A word is a prefix too: 1380 finds 13800138000 and 3号 finds 3号楼.
            phrases.append(Phrase((run,), prefix=True))
    return Query(tuple(dict.fromkeys(phrases)), tuple(dict.fromkeys(words)))


@dataclass(frozen=True)
class Piece:
    """A stretch of a snippet; `hit` when it is one of the searched words."""

    text: str
    hit: bool = False


def snippet(text: str, query: Query, *, width: int = 90) -> list[Piece] | None:
    """About `width` characters of `text` around its first hit, the hits marked; None: no hit."""
    if not text or not query.words:
        return None
    spans = _spans(normalise(text), query.words)
    if not spans:
        return None
    first = spans[0][0]
    start = max(0, min(first - width // 3, len(text) - width))
    end = min(len(text), start + width)
    pieces: list[Piece] = []
    if start > 0:
        pieces.append(Piece("…"))
    cursor = start
    for a, b in spans:
        if b <= start or a >= end:
            continue
        a, b = max(a, start), min(b, end)
        if a > cursor:
            pieces.append(Piece(text[cursor:a]))
        pieces.append(Piece(text[a:b], hit=True))
        cursor = b
    if cursor < end:
        pieces.append(Piece(text[cursor:end]))
    if end < len(text):
        pieces.append(Piece("…"))
    return pieces


def _spans(haystack: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where the words occur, merged into non-overlapping spans in order."""
    found: list[tuple[int, int]] = []
    for word in words:
        start = haystack.find(word)
        while start != -1:
            found.append((start, start + len(word)))
            start = haystack.find(word, start + len(word))
    found.sort()
    merged: list[tuple[int, int]] = []
    for a, b in found:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged

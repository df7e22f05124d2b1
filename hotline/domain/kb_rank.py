"""Best knowledge-base entries for a call's text: TF-IDF cosine over the full-text bigrams.

A call's text is long (a caller's whole story) and shares only some words with the entry that
answers it, so a search that needs every word (the full-text AND) finds nothing. Here each
entry and the text are vectors of the same terms the full-text index uses
(`hotline.domain.fulltext.terms`: character bigrams, letter/digit words), weighted by TF-IDF,
and entries are ranked by cosine similarity: any shared word counts, rare ones more. The
matrix is built in memory (10,000 entries: about a second, a few MB) and one text is ranked
against all entries with one sparse product (bench/kb.py: milliseconds).

The highlighted words of a snippet are the shared terms that are not common across entries,
so 「的问」 shared by chance is not marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from hotline.domain.fulltext import Piece, Query, snippet, terms
from hotline.domain.knowledge import offered

# Entries below this similarity are not offered: they share a word or two by chance.
MIN_SCORE = 0.08
# An entry sharing fewer terms than this with the text is a coincidence (one word: 服务).
MIN_SHARED = 2
# A term in more than this share of entries is too common to highlight.
COMMON_SHARE = 0.2


def text_terms(text: str) -> list[str]:
    """The terms a text is ranked by: full-text terms without single characters (noise)."""
    return [t for t in terms(text) if len(t) > 1 or t.isascii()]


@dataclass(frozen=True)
class Doc:
    """An entry as the ranking holds it."""

    id: int
    title: str
    questions: tuple[str, ...]
    answer: str
    status: str
    valid_from: date | None
    valid_to: date | None

    def terms(self) -> list[str]:
        # Title and question variants are how people ask: they count twice the answer's words.
        asked = text_terms(" ".join((self.title, *self.questions)))
        return asked + asked + text_terms(self.answer)


@dataclass(frozen=True)
class Ranked:
    """One entry found for a text: its similarity and the words to highlight."""

    doc: Doc
    score: float
    shared: tuple[str, ...]

    def snippet(self, width: int = 80) -> list[Piece]:
        """A stretch of the question variants and answer, the shared words marked."""
        text = "；".join((*self.doc.questions, self.doc.answer))
        pieces = snippet(text, Query((), self.shared), width=width)
        if pieces is None:
            cut = text[:width]
            return [Piece(cut + ("…" if len(text) > width else ""))]
        return pieces


class SuggestIndex:
    """Every entry's TF-IDF vector, ready to rank a text against all of them."""

    def __init__(self, docs: Sequence[Doc]) -> None:
        self.docs = list(docs)
        self._vectorizer = TfidfVectorizer(
            analyzer=lambda terms: terms, sublinear_tf=True, norm="l2", dtype=np.float32
        )
        self._matrix = None
        self._common: frozenset[str] = frozenset()
        if self.docs:
            doc_terms = [d.terms() for d in self.docs]
            # Transposed once, so a text's vector times it is one sparse product.
            self._matrix = self._vectorizer.fit_transform(doc_terms).T.tocsr()
            counts: dict[str, int] = {}
            for found in doc_terms:
                for term in set(found):
                    counts[term] = counts.get(term, 0) + 1
            limit = max(2, COMMON_SHARE * len(self.docs))
            self._common = frozenset(t for t, n in counts.items() if n > limit)

    def __len__(self) -> int:
        return len(self.docs)

    def best(self, text: str, *, today: date, limit: int = 5) -> list[Ranked]:
        """The entries most similar to `text` that may be offered today, best first."""
        if self._matrix is None:
            return []
        asked = text_terms(text)
        if not asked:
            return []
        vector = self._vectorizer.transform([asked])
        scores = (vector @ self._matrix).toarray().ravel()
        candidates = np.flatnonzero(scores >= MIN_SCORE)
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        found: list[Ranked] = []
        asked_set = set(asked)
        for index in order:
            doc = self.docs[int(index)]
            if not offered(doc.status, doc.valid_from, doc.valid_to, today):
                continue
            shared = tuple(t for t in dict.fromkeys(doc.terms()) if t in asked_set)
            if len(shared) < MIN_SHARED:
                continue
            marked = tuple(t for t in shared if t not in self._common) or shared
            found.append(Ranked(doc, float(scores[index]), marked))
            if len(found) == limit:
                break
        return found

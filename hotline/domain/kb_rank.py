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
from scipy import sparse
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
    """Every entry's TF-IDF vector, ready to rank a text against all of them.

    Built once in full (the vocabulary and the IDF weights: seconds at 10,000 entries); an edit
    afterwards is `updated`, which re-weighs only the changed entries with the same vocabulary
    and IDF (milliseconds) and returns a new index, so readers of the old one are undisturbed.
    A word that first appears in an edit counts from the next full build (a worker's restart).
    """

    def __init__(self, docs: Sequence[Doc]) -> None:
        self.docs = list(docs)
        self._vectorizer = TfidfVectorizer(
            analyzer=_same, sublinear_tf=True, norm="l2", dtype=np.float32
        )
        self._matrix: sparse.csr_matrix | None = None
        self._common = np.zeros(0, dtype=bool)
        if self.docs:
            self._matrix = self._vectorizer.fit_transform([d.terms() for d in self.docs])
            self._matrix = sparse.csr_matrix(self._matrix)
            self._count_common()

    def _count_common(self) -> None:
        assert self._matrix is not None
        # By term as well: a text's vector times this reads only its own terms' entries (an
        # inverted index), not every entry's every term.
        self._by_term = sparse.csr_matrix(self._matrix.T)
        in_docs = np.bincount(self._matrix.indices, minlength=self._matrix.shape[1])
        self._common = in_docs > max(2, COMMON_SHARE * len(self.docs))

    def __len__(self) -> int:
        return len(self.docs)

    def updated(self, changed: Sequence[Doc]) -> SuggestIndex:
        """A copy with `changed` entries replaced (or added), weighed with this vocabulary."""
        if self._matrix is None:
            return SuggestIndex([*self.docs, *changed])
        ids = {d.id for d in changed}
        keep = [i for i, d in enumerate(self.docs) if d.id not in ids]
        fresh = sparse.csr_matrix(self._vectorizer.transform([d.terms() for d in changed]))
        copy = SuggestIndex.__new__(SuggestIndex)
        copy.docs = [self.docs[i] for i in keep] + list(changed)
        copy._vectorizer = self._vectorizer
        copy._matrix = sparse.csr_matrix(sparse.vstack([self._matrix[keep], fresh]))
        copy._count_common()
        return copy

    def _vector(self, asked: list[str]) -> sparse.csr_matrix | None:
        """The text's TF-IDF row as the vectorizer weighs one (sublinear tf, idf, l2), without
        its per-call input checks (a few milliseconds, most of a suggestion's time)."""
        vocabulary = self._vectorizer.vocabulary_
        counts: dict[int, int] = {}
        for term in asked:
            column = vocabulary.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if not counts:
            return None
        columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        weights = (1.0 + np.log(tf)) * self._vectorizer.idf_[columns].astype(np.float32)
        weights /= np.linalg.norm(weights)
        shape = (1, len(vocabulary))
        return sparse.csr_matrix((weights, (np.zeros_like(columns), columns)), shape=shape)

    def best(self, text: str, *, today: date, limit: int = 5) -> list[Ranked]:
        """The entries most similar to `text` that may be offered today, best first."""
        if self._matrix is None:
            return []
        asked = text_terms(text)
        if not asked:
            return []
        vector = self._vector(asked)
        if vector is None:
            return []
        scores = (vector @ self._by_term).toarray().ravel()
        candidates = np.flatnonzero(scores >= MIN_SCORE)
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        vocabulary = self._vectorizer.vocabulary_
        found: list[Ranked] = []
        asked_set = set(asked)
        for index in order:
            doc = self.docs[int(index)]
            if not offered(doc.status, doc.valid_from, doc.valid_to, today):
                continue
            shared = tuple(t for t in dict.fromkeys(doc.terms()) if t in asked_set)
            if len(shared) < MIN_SHARED:
                continue
            marked = tuple(t for t in shared if t in vocabulary and not self._common[vocabulary[t]])
            found.append(Ranked(doc, float(scores[index]), marked or shared))
            if len(found) == limit:
                break
        return found


def _same(terms: list[str]) -> list[str]:
    """The analyzer: texts arrive as their terms already."""
    return terms

"""Feature extraction shared by training (via scikit-learn) and prediction (pure numpy)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

# Bigrams are joined with a space: tokens never contain one, so the key is unambiguous.
BIGRAM_SEP = " "


def word_ngrams(tokens: Sequence[str]) -> list[str]:
    """Word unigrams followed by adjacent bigrams."""
    return list(tokens) + [a + BIGRAM_SEP + b for a, b in zip(tokens, tokens[1:], strict=False)]


def char_text(tokens: Sequence[str]) -> str:
    """The string char n-grams are taken from: tokens joined by one space (as sklearn sees it)."""
    return " ".join(tokens)


def char_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """Character n-grams lo..hi exactly as sklearn's analyzer='char' makes them."""
    out: list[str] = []
    n_text = len(text)
    for n in range(lo, hi + 1):
        out.extend(text[i : i + n] for i in range(n_text - n + 1))
    return out


def char_ngram_ids(
    tokens: Sequence[str],
    vocab: Mapping[str, int],
    lo: int,
    hi: int,
    cache: dict[str, tuple[int, ...]],
    cache_max: int = 100_000,
) -> list[int]:
    """Vocabulary ids of char_ngrams(char_text(tokens), lo, hi), found via a per-token cache.

    The n-grams starting inside a token or at the space after it depend only on the text from
    the token's start to hi characters past its end, so that slice is the cache key. Tokens
    repeat across tickets, which saves most of the dict look-ups (the slow part of prediction).
    """
    text = char_text(tokens)
    out: list[int] = []
    pos = 0
    get = vocab.get
    for tok in tokens:
        n_tok = len(tok)
        key = text[pos : pos + n_tok + hi]
        ids = cache.get(key)
        if ids is None:
            n_key = len(key)
            found = []
            for p in range(n_tok + 1):
                for n in range(lo, hi + 1):
                    if p + n <= n_key:
                        j = get(key[p : p + n])
                        if j is not None:
                            found.append(j)
            ids = tuple(found)
            if len(cache) < cache_max:
                cache[key] = ids
        out.extend(ids)
        pos += n_tok + 1
    return out


@dataclass(frozen=True)
class TfidfBlock:
    """One vocabulary + IDF vector; sublinear tf and l2 norm as sklearn's TfidfVectorizer."""

    vocab: Mapping[str, int]
    idf: np.ndarray
    offset: int  # column of this block's first feature in the stacked matrix

    def weights(self, grams: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Column ids and tf-idf values (l2-normalised) of the grams found in the vocabulary."""
        # map(dict.get) runs in C; counting ids with numpy avoids a Python loop per gram.
        ids = np.fromiter(map(self.vocab.get, grams, repeat(-1)), dtype=np.int64, count=len(grams))
        return self.weights_from_ids(ids[ids >= 0])

    def weights_from_ids(self, ids: np.ndarray | list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Like weights, from vocabulary ids (with repeats) instead of grams."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size == 0:
            return ids, np.zeros(0)
        uniq, counts = np.unique(ids, return_counts=True)
        vals = (1.0 + np.log(counts)) * self.idf[uniq]
        vals /= np.sqrt(vals @ vals)
        return uniq + self.offset, vals

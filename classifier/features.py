"""Feature extraction shared by training (via scikit-learn) and prediction (numpy)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import chain, repeat

import numpy as np

# Bigrams are joined with a space: tokens never contain one, so the key is unambiguous.
BIGRAM_SEP = " "
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / φ, for Fibonacci hashing


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


class FeatureIndex:
    """Columns of the word 1–2-grams and char n-grams of a token list, found with numpy.

    The stacked feature space is the word vocabulary (columns 0..n_word-1) then the char
    vocabulary. Instead of one dict look-up per n-gram (~1,800 per 500-character ticket, the slow
    part of prediction), every n-gram becomes a 64-bit key and all keys of a ticket are found
    together in a hash-bucketed array of the vocabulary's keys (``lookup``):

    - key = kind tag (top 4 bits: 1..hi for char n-grams of that length, 14 word unigram,
      15 word bigram) | payload;
    - word: each token becomes a token id (one dict look-up per token, 0 when unknown); a
      unigram's payload is its id, a bigram's is ``id_a << tok_bits | id_b``;
    - char: the joined text is read as code points (``str.encode("utf-32-le")``), each mapped
      to a character id (0 for a character in no vocabulary n-gram); an n-gram's payload is its
      n character ids written in base ``2**char_bits``.

    Ids start at 1, so a key holding an unknown token or character (a 0 digit) is never in the
    vocabulary. No Python loop over n-grams, no cache: the cost barely depends on the text.
    When the keys do not fit 60 bits (a huge alphabet with long n-grams) the plain dict path
    (word_ngrams / char_ngram_ids) is used instead.
    """

    TAG_SHIFT = 60
    TAG_UNI = 14
    TAG_BI = 15

    def __init__(
        self,
        word_vocab: Sequence[str],
        char_vocab: Sequence[str],
        char_range: tuple[int, int],
        *,
        numeric: bool = True,
    ) -> None:
        self.lo, self.hi = char_range
        self.n_word = len(word_vocab)
        # Token ids: unigrams first (in vocabulary order), then any bigram part that is not a
        # unigram itself. Done with C-level joins/splits: the vocabulary has ~10^5 entries and
        # load time counts.
        is_bi = [BIGRAM_SEP in w for w in word_vocab]
        unis = [w for w, b in zip(word_vocab, is_bi, strict=True) if not b]
        bis = [w for w, b in zip(word_vocab, is_bi, strict=True) if b]
        tok_ids: dict[str, int] = dict(zip(unis, range(1, len(unis) + 1), strict=True))
        parts = "\n".join(bis).replace(BIGRAM_SEP, "\n").split("\n") if bis else []
        if len(parts) != 2 * len(bis):  # a bigram entry with more than one separator
            parts = [p for w in bis for p in w.split(BIGRAM_SEP, 1)]
        for p in parts:
            if p not in tok_ids:
                tok_ids[p] = len(tok_ids) + 1
        chars = sorted(set("".join(char_vocab)))
        self.tok_bits = (len(tok_ids) + 1).bit_length()
        self.char_bits = (len(chars) + 1).bit_length()
        self.numeric = (
            numeric
            and 2 * self.tok_bits <= self.TAG_SHIFT
            and self.char_bits * self.hi <= self.TAG_SHIFT
        )
        self._cache: dict[str, tuple[int, ...]] = {}
        if not self.numeric:
            self.word_vocab = {w: i for i, w in enumerate(word_vocab)}
            self.char_vocab = {g: i for i, g in enumerate(char_vocab)}
            self.order = np.arange(self.n_word + len(char_vocab), dtype=np.int64)
            return
        self.tok_ids = tok_ids
        # The narrowest integers that hold the ids: the table is read once per character of
        # every ticket, and 2 MB of it stays in the CPU cache where 9 MB (uint64) would not.
        self.char_code = np.zeros(0x110000, dtype=np.uint16 if len(chars) < 2**16 else np.uint32)
        if chars:
            self.char_code[[ord(ch) for ch in chars]] = np.arange(1, len(chars) + 1)
        shift = self.TAG_SHIFT
        word_keys = np.zeros(len(word_vocab), dtype=np.uint64)
        kinds = np.array(is_bi, dtype=bool)
        word_keys[~kinds] = np.arange(1, len(unis) + 1, dtype=np.uint64) | np.uint64(
            self.TAG_UNI << shift
        )
        if bis:
            ab = np.fromiter(map(tok_ids.__getitem__, parts), dtype=np.uint64, count=len(parts))
            word_keys[kinds] = (
                (ab[0::2] << np.uint64(self.tok_bits)) | ab[1::2] | np.uint64(self.TAG_BI << shift)
            )
        # Char keys, vectorised per n-gram length: the grams of one length, concatenated and
        # read as code points, form an (n_grams, n) array of character ids.
        lengths = np.fromiter(map(len, char_vocab), dtype=np.int64, count=len(char_vocab))
        char_keys = np.zeros(len(char_vocab), dtype=np.uint64)
        for n in np.unique(lengths).tolist():
            sel = np.flatnonzero(lengths == n)
            joined = "".join([char_vocab[i] for i in sel.tolist()])
            cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            ids = self.char_code[cp].astype(np.uint64).reshape(len(sel), n)
            k = np.full(len(sel), n << shift, dtype=np.uint64)
            for j in range(n):
                k |= ids[:, j] << np.uint64(self.char_bits * (n - 1 - j))
            char_keys[sel] = k
        keys = np.concatenate([word_keys, char_keys])
        # Look-up by hash buckets, not a binary search: a binary search in ~400k keys touches
        # a dozen cache lines per n-gram, and a prediction running beside other work (or after
        # jieba's dictionary) finds few of them in the CPU cache; a bucket is two. The keys are
        # stored in bucket order, and slot i (a position in that order) holds column
        # order[i]: callers keep per-feature arrays (idf, coefficients) in slot order.
        self.bucket_bits = max(1, int(len(keys)).bit_length())  # about one key per bucket
        bucket = self._bucket(keys)
        order = np.argsort(bucket, kind="stable")  # within a bucket, column order
        self.keys = keys[order]
        self.order = order.astype(np.int64)
        # starts[b] .. starts[b + 1]: the slots of bucket b
        self.starts = np.searchsorted(
            bucket[order], np.arange((1 << self.bucket_bits) + 1, dtype=np.uint64)
        ).astype(np.int32 if len(keys) < 2**31 else np.int64)
        sizes = np.diff(self.starts)
        self.max_bucket = int(sizes.max(initial=0))
        self._tag = {n: np.uint64(n << self.TAG_SHIFT) for n in range(1, 16)}
        self._tok_shift = np.uint64(self.tok_bits)
        self._char_shift = np.uint64(self.char_bits)

    def counts(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Slots (see ``order``) of the tokens' n-grams in the vocabulary, and counts."""
        if not self.numeric:
            cols, cnt = np.unique(self._ids_dict(tokens), return_counts=True)
            return cols, cnt  # here slot = column
        keys, counts = self.ticket_keys(tokens)
        slots = self.lookup(keys)
        hit = slots >= 0
        return slots[hit], counts[hit]

    def token_ids(self, token_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Each ticket's token ids (0 for a token in no word n-gram), as uint64 arrays."""
        flat = list(chain.from_iterable(token_lists))
        # (int64 then a view: numpy's fromiter converts Python ints to int64 twice as fast)
        every = np.fromiter(
            map(self.tok_ids.get, flat, repeat(0)), dtype=np.int64, count=len(flat)
        ).view(np.uint64)
        out = []
        start = 0
        for tokens in token_lists:
            out.append(every[start : start + len(tokens)])
            start += len(tokens)
        return out

    def ticket_keys(
        self, tokens: Sequence[str], token_ids: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The distinct keys (ascending) of the tokens' word and char n-grams, and their counts.

        token_ids: the tokens' ids when already known (see token_ids).
        """
        if not tokens or self.keys.size == 0:
            return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        tag = self._tag
        t = token_ids if token_ids is not None else self.token_ids([tokens])[0]
        parts = [t | tag[self.TAG_UNI]]
        if t.size > 1:
            parts.append((t[:-1] << self._tok_shift) | t[1:] | tag[self.TAG_BI])
        text = char_text(tokens)
        cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
        c = self.char_code[cp].astype(np.uint64)
        size = c.size
        for n in range(self.lo, min(self.hi, size) + 1):
            m = size - n + 1
            code = c[:m] | tag[n] if n == 1 else c[:m] << self._char_shift
            for k in range(1, n):
                code |= c[k : k + m]
                if k < n - 1:
                    code <<= self._char_shift
            if n > 1:
                code |= tag[n]
            parts.append(code)
        q = np.concatenate(parts)
        q.sort()
        first = np.empty(q.size, dtype=bool)
        first[0] = True
        np.not_equal(q[1:], q[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        return q[starts], np.diff(starts, append=q.size)

    def _bucket(self, keys: np.ndarray) -> np.ndarray:
        # Fibonacci hashing: the top bits of key × 2^64/φ spread the structured keys (small
        # ids under a kind tag) evenly over the buckets.
        return (keys * _GOLDEN) >> np.uint64(64 - self.bucket_bits)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Slot of each key, -1 where it is unknown."""
        out = np.full(keys.size, -1, dtype=np.int64)
        if self.keys.size == 0 or keys.size == 0:
            return out
        b = self._bucket(keys)
        pos = self.starts[b].astype(np.int64)
        end = self.starts[b + np.uint64(1)].astype(np.int64)
        todo = np.flatnonzero(pos < end)  # an empty bucket: unknown at once
        pos, end = pos[todo], end[todo]
        # Round r compares every key still open with the r-th key of its bucket; buckets hold
        # one key on average, so most are settled in the first round.
        while todo.size:
            hit = self.keys[pos] == keys[todo]
            out[todo[hit]] = pos[hit]
            pos += 1
            more = ~hit & (pos < end)
            todo, pos, end = todo[more], pos[more], end[more]
        return out

    def ids(self, tokens: Sequence[str]) -> np.ndarray:
        """Columns of all word and char n-grams of tokens in the vocabulary, with repeats."""
        if not self.numeric:
            return self._ids_dict(tokens)
        slots, n = self.counts(tokens)
        return np.repeat(self.order[slots], n)

    def _ids_dict(self, tokens: Sequence[str]) -> np.ndarray:
        get = self.word_vocab.get
        words = [j for j in map(get, word_ngrams(tokens)) if j is not None]
        chars = char_ngram_ids(tokens, self.char_vocab, self.lo, self.hi, self._cache)
        return np.concatenate(
            [np.asarray(words, dtype=np.int64), np.asarray(chars, dtype=np.int64) + self.n_word]
        )


def tfidf_values(counts: np.ndarray, idf: np.ndarray, word: np.ndarray) -> np.ndarray:
    """Sublinear-tf × idf of distinct features, l2-normalised per block (word | char).

    Equivalent to two sklearn TfidfVectorizers (sublinear_tf, norm='l2') stacked side by side.
    counts, idf and word (True for a word-block feature) are one entry per feature.
    """
    vals = (1.0 + np.log(counts)) * idf
    sq = vals * vals
    w2 = float(sq[word].sum())
    c2 = float(sq.sum()) - w2
    if w2 > 0:
        vals[word] /= math.sqrt(w2)
    if c2 > 0:
        vals[~word] /= math.sqrt(c2)
    return vals

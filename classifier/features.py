"""Feature extraction shared by training (via scikit-learn) and prediction (numpy)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

# Bigrams are joined with a space: tokens never contain one, so the key is unambiguous.
BIGRAM_SEP = " "
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / φ, for Fibonacci hashing
# Pads a ticket's code points: beyond Unicode (0x10FFFF), so in no vocabulary n-gram.
_SENTINEL = (0x110000).to_bytes(4, "little")
_SPACE = np.uint32(ord(" "))
# Keys are 57 bits; batch_keys puts a ticket's number (< MAX_BATCH) in the 7 above them.
_KEY_BITS = np.uint64(57)
_TICKET_SHIFT = np.uint64(64 - 57)
_KEY_MASK = np.uint64((1 << 57) - 1)
MAX_BATCH = 1 << 7


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
    vocabulary. Instead of one dict look-up per n-gram (~1,800 per 500-character ticket), every
    n-gram becomes a 57-bit key and all keys of a batch of tickets are found together in a
    hash-bucketed array of the vocabulary's keys (``lookup``).

    Every n-gram is a substring of the text the char analyser reads (the tokens joined by one
    space; a word bigram ``a b`` is the span from a's start to b's end), so its key is a
    polynomial hash of that substring's code points, ``sum(c_j · P^j) mod 2^64``, times an odd
    constant plus a tag per kind (word unigram, word bigram, char n-gram of length n), its top
    57 bits kept. A
    ticket's prefix sums of ``c_j · P^j`` give every substring's hash with one subtraction and
    one multiplication by ``P^-start`` (P is odd, so it has an inverse mod 2^64): a handful of
    numpy passes over the code points, no dict of tokens and no per-character table, whose
    memory a ticket would otherwise fetch from RAM (jieba's dictionary evicts it between two
    tickets). Two different strings share a key with probability about 2^-57 per pair (an
    unknown n-gram meets one of 400,000 vocabulary keys about once in 3·10^11); the
    vocabulary's own keys are checked to be distinct when the index is built (else the plain
    dict path is used).
    """

    # Odd multipliers: P for the polynomial, MIX to spread a kind's hashes over 64 bits.
    P = 0x100000001B3
    MIX = 0xBF58476D1CE4E5B9
    KIND_UNI = 0
    KIND_BI = 1  # char n-grams of length n: kind 1 + n

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
        self._cache: dict[str, tuple[int, ...]] = {}
        self._pinv = pow(self.P, -1, 1 << 64)
        # kind -> tag added to hash × MIX: the same string of two kinds gets unrelated keys.
        self._tags = [
            np.uint64((0xD1B54A32D192ED03 * (k + 1)) & 0xFFFFFFFFFFFFFFFF)
            for k in range(2 + self.hi)
        ]
        self._word_tags = np.array([self._tags[self.KIND_UNI], self._tags[self.KIND_BI]])
        self._char_tags = np.array([self._tags[1 + n] for n in range(self.lo, self.hi + 1)])
        self._span = np.zeros((0, self.hi - self.lo + 1), dtype=np.int64)
        self._ticket_tags = np.arange(MAX_BATCH, dtype=np.uint64) << _KEY_BITS
        self._pow = np.ones(1, dtype=np.uint64)
        self._mixinv = np.ones(1, dtype=np.uint64)
        self._grow_powers(1024)
        keys = None
        if numeric:
            is_bi = np.fromiter(
                (BIGRAM_SEP in w for w in word_vocab), dtype=bool, count=self.n_word
            )
            kinds = np.where(is_bi, self.KIND_BI, self.KIND_UNI)
            char_lens = np.fromiter(map(len, char_vocab), dtype=np.int64, count=len(char_vocab))
            keys = np.concatenate(
                [self._string_keys(word_vocab, kinds), self._string_keys(char_vocab, 1 + char_lens)]
            )
            ordered = np.sort(keys)
            if (ordered[1:] == ordered[:-1]).any():  # 2^-64 a pair, but never a wrong column
                keys = None
        self.numeric = keys is not None
        if not self.numeric:
            self.word_vocab = {w: i for i, w in enumerate(word_vocab)}
            self.char_vocab = {g: i for i, g in enumerate(char_vocab)}
            self.order = np.arange(self.n_word + len(char_vocab), dtype=np.int64)
            return
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

    def _grow_powers(self, n: int) -> None:
        """P^j and MIX · P^-j for j < n (at least), mod 2^64."""
        if self._pow.size >= n:
            return
        size = max(n, 2 * self._pow.size)
        p = np.empty(size, dtype=np.uint64)
        q = np.empty(size, dtype=np.uint64)
        p[0], q[0] = 1, self.MIX
        # Doubling: each step multiplies the known half by P^len (numpy wraps mod 2^64).
        filled = 1
        while filled < size:
            step = min(filled, size - filled)
            p[filled : filled + step] = p[:step] * np.uint64(pow(self.P, filled, 1 << 64))
            q[filled : filled + step] = q[:step] * np.uint64(pow(self._pinv, filled, 1 << 64))
            filled += step
        self._pow, self._mixinv = p, q
        self._cumpow = np.cumsum(p)  # sum_{i<=j} P^i (numpy wraps mod 2^64)

    def _string_keys(self, strings: Sequence[str], kinds: np.ndarray) -> np.ndarray:
        """Keys of whole strings (the vocabulary), by Horner's rule per string length."""
        out = np.zeros(len(strings), dtype=np.uint64)
        lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
        P = np.uint64(self.P)
        for n in np.flatnonzero(np.bincount(lengths, minlength=1)).tolist():
            sel = np.flatnonzero(lengths == n)
            joined = "".join([strings[i] for i in sel.tolist()])
            cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            c = cp.astype(np.uint64).reshape(len(sel), n) + np.uint64(1)
            acc = np.zeros(len(sel), dtype=np.uint64)
            for j in range(n - 1, -1, -1):
                acc = acc * P + c[:, j]
            out[sel] = acc
        tags = np.array(self._tags, dtype=np.uint64)[kinds]
        return (out * np.uint64(self.MIX) + tags) >> _TICKET_SHIFT

    def counts(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Slots (see ``order``) of the tokens' n-grams in the vocabulary, and counts."""
        if not self.numeric:
            cols, cnt = np.unique(self._ids_dict(tokens), return_counts=True)
            return cols, cnt  # here slot = column
        keys, counts = self.ticket_keys(tokens)
        slots = self.lookup(keys)
        hit = slots >= 0
        return slots[hit], counts[hit]

    def ticket_keys(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The distinct keys (ascending) of the tokens' word and char n-grams, and their counts."""
        _, keys, counts = self.batch_keys([tokens])
        return keys, counts

    def batch_keys(
        self, token_lists: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ticket, key, count) of every distinct n-gram of each ticket: by ticket, then key.

        A batch (at most MAX_BATCH tickets) is one buffer of code points: each ticket's
        space-joined tokens followed by hi sentinel characters (a code point beyond Unicode, in
        no vocabulary string), so every position starts a char n-gram of every length and every
        token a bigram; those that run into a sentinel are unknown keys, found absent like any
        other, and no n-gram spans two tickets. The same few dozen numpy calls serve one ticket
        or a hundred (each call costs microseconds when the caches are cold). A key is 57 bits;
        the ticket's number goes above it, so one sort orders and counts every ticket's
        n-grams, and one ticket gets the same keys and counts, in the same order, alone or in
        a batch.
        """
        n = len(token_lists)
        if n > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} tickets per batch")
        empty = np.zeros(0, dtype=np.int64)
        if not self.numeric or n == 0:
            return empty, np.zeros(0, dtype=np.uint64), empty
        pad = self.hi
        sentinel = _SENTINEL * pad
        texts = [char_text(t) for t in token_lists]
        buf = b"".join([t.encode("utf-32-le", "surrogatepass") + sentinel for t in texts])
        cp = np.frombuffer(buf + sentinel, np.uint32)  # one more pad: n-grams at the end
        size = cp.size - pad  # positions that start n-grams
        self._grow_powers(cp.size + 1)
        # h[i] = sum_{j<i} (c_j + 1) · P^j; a substring [s, e) hashes to (h[e] - h[s]) · P^-s
        # (the "+ 1" is the running sum of P^j, added at once)
        h = np.empty(cp.size + 1, dtype=np.uint64)
        h[0] = 0
        np.cumsum(np.multiply(cp, self._pow[: cp.size], dtype=np.uint64), out=h[1:])
        h[1:] += self._cumpow[: cp.size]
        one = n == 1  # one ticket (predict): number 0, so the ticket bits stay zero
        if not one:
            # Each ticket's region: its text and pad; its number shifted above the keys.
            region = np.fromiter(map(len, texts), dtype=np.int64, count=n) + pad
            owner = np.repeat(self._ticket_tags[:n], region)  # per position
        # Word n-grams: token i spans [start, end); its bigram runs to the next token's end,
        # or for a ticket's last token one sentinel past its own (an unknown key).
        flat = token_lists[0] if one else [tok for toks in token_lists for tok in toks]
        spaces = np.flatnonzero(cp[: size - pad] == _SPACE) if one and flat else None
        if spaces is not None and spaces.size == len(flat) - 1:
            # One ticket: its tokens end at the spaces between them (tokens hold none; the
            # count confirms it) and at the text's end; no Python pass over the tokens.
            end = size - pad
            starts = np.empty(len(flat), dtype=np.int64)
            starts[0] = 0
            np.add(spaces, 1, out=starts[1:])
            ends = np.empty((len(flat), 2), dtype=np.int64)
            ends[:-1, 0] = spaces
            ends[-1, 0] = end
            ends[:-1, 1] = ends[1:, 0]  # a bigram ends where the next token does
            ends[-1, 1] = end + 1  # the last token's: one sentinel past (unknown)
            word = (h[ends] - h[starts, None]) * self._mixinv[starts, None] + self._word_tags
            word >>= _TICKET_SHIFT
        elif flat:
            lens = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat))
            g = np.zeros(len(flat) + 1, dtype=np.int64)
            np.cumsum(lens + 1, out=g[1:])
            ends = np.empty((len(flat), 2), dtype=np.int64)
            if one:
                starts = g[:-1]
                last = [len(flat) - 1]
            else:
                ntok = np.fromiter(map(len, token_lists), dtype=np.int64, count=n)
                first = np.cumsum(ntok) - ntok  # each ticket's first token
                base = np.cumsum(region) - region  # each ticket's first position
                starts = g[:-1] + np.repeat(base - g[first], ntok)
                last = (first + ntok - 1)[ntok > 0]
            ends[:, 0] = starts + lens
            ends[:-1, 1] = ends[1:, 0]
            ends[last, 1] = ends[last, 0] + 1
            word = (h[ends] - h[starts, None]) * self._mixinv[starts, None] + self._word_tags
            word >>= _TICKET_SHIFT
            if not one:
                word |= owner[starts, None]
        else:
            word = np.zeros((0, 2), dtype=np.uint64)
        # Char n-grams of every length lo..hi at every position: (size, hi - lo + 1).
        span = self._char_span(size)
        char = (h[span] - h[:size, None]) * self._mixinv[:size, None] + self._char_tags
        char >>= _TICKET_SHIFT
        if not one:
            char |= owner[:, None]
        # Equal keys are equal integers, so any sort gives the same result; numpy's SIMD
        # quicksort took half the time of its stable sort (a timsort for 64-bit integers) on
        # one ticket's ~2,000 keys.
        if one:
            q = np.concatenate([word.ravel(), char.ravel()])
            q.sort()
        else:
            q = self._by_ticket(word.ravel(), char.ravel(), len(flat) and ntok, region)
        new = np.empty(q.size, dtype=bool)
        new[0] = True
        np.not_equal(q[1:], q[:-1], out=new[1:])
        idx = np.flatnonzero(new)
        q = q[idx]
        counts = np.empty(idx.size, dtype=np.int64)
        np.subtract(idx[1:], idx[:-1], out=counts[:-1])
        counts[-1] = new.size - idx[-1]
        if one:
            return np.zeros(q.size, dtype=np.int64), q, counts
        return (q >> _KEY_BITS).astype(np.int64), q & _KEY_MASK, counts

    def _by_ticket(
        self, word: np.ndarray, char: np.ndarray, ntok: np.ndarray | int, region: np.ndarray
    ) -> np.ndarray:
        """A batch's keys sorted: each ticket's word and char keys moved together, then each
        ticket's sorted alone.

        The ticket's number is in the top bits, so this is the order one sort of all keys
        gives; 128 quicksorts of ~2,000 keys took half the time of one timsort of 250,000.
        """
        n = region.size
        nw = 2 * np.asarray(ntok, dtype=np.int64) if np.ndim(ntok) else np.zeros(n, np.int64)
        nc = region * (self.hi - self.lo + 1)  # every position starts one of each length
        block = nw + nc
        bounds = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(block, out=bounds[1:])
        q = np.empty(int(bounds[-1]), dtype=np.uint64)
        # destination = position in its ticket's block + the block's start
        q[np.arange(word.size) + np.repeat(bounds[:-1] - (np.cumsum(nw) - nw), nw)] = word
        q[np.arange(char.size) + np.repeat(bounds[:-1] + nw - (np.cumsum(nc) - nc), nc)] = char
        edges = bounds.tolist()
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            q[a:b].sort()
        return q

    def _char_span(self, size: int) -> np.ndarray:
        """(size, hi - lo + 1) end positions i + n of the char n-grams at i (cached by size)."""
        if self._span.shape[0] < size:
            rows = max(size, 2 * self._span.shape[0])
            self._span = np.arange(rows)[:, None] + np.arange(self.lo, self.hi + 1)[None, :]
        return self._span[:size]

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

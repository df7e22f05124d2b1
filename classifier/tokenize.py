"""Tokeniser: normalised text -> tokens shaped like the jieba-segmented training corpus."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from itertools import compress
from pathlib import Path

import jieba

from classifier.fastcut import make_cutter
from classifier.normalize import PLACEHOLDERS, normalize_text

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
STOPWORDS_PATH = DATA_DIR / "stopwords.txt"
USERDICT_PATH = DATA_DIR / "userdict.txt"

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_cut: Callable[[str], list[str]] | None = None
_stopwords: frozenset[str] | None = None
_userwords: frozenset[str] | None = None
# Token -> keep? The stop-word and punctuation test per token is a hot path; tokens repeat.
_keep_cache: dict[str, bool] = {}
_KEEP_CACHE_MAX = 200_000
# Longest run of corpus tokens that may be re-joined into one user-dictionary word.
_MAX_MERGE = 4

# A token is kept only if it has a letter, digit or CJK character; "_" alone is noise.
_HAS_WORD = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_NON_CJK = re.compile(r"[^\u3400-\u9fff]+")


def _read_lines(path: Path) -> list[str]:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def load_stopwords() -> frozenset[str]:
    """The shipped stop-word set (loaded once)."""
    global _stopwords
    if _stopwords is None:
        _stopwords = (
            frozenset(_read_lines(STOPWORDS_PATH)) if STOPWORDS_PATH.exists() else frozenset()
        )
    return _stopwords


def load_userwords() -> frozenset[str]:
    """Words of the shipped jieba user dictionary (loaded once)."""
    global _userwords
    if _userwords is None:
        words = (
            [ln.split()[0] for ln in _read_lines(USERDICT_PATH)] if USERDICT_PATH.exists() else []
        )
        _userwords = frozenset(words)
    return _userwords


def merge_userwords(tokens: list[str], words: frozenset[str]) -> list[str]:
    """Re-join adjacent tokens that spell a user-dictionary word (e.g. 占 道 经营 -> 占道经营)."""
    if not words:
        return tokens
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        for j in range(min(n, i + _MAX_MERGE), i + 1, -1):
            joined = "".join(tokens[i:j])
            if joined in words:
                out.append(joined)
                i = j
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def get_tokenizer() -> jieba.Tokenizer:
    """A private jieba.Tokenizer with our user dictionary, built once on first use."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                tk = jieba.Tokenizer()
                # jieba logs "Building prefix dict…" at DEBUG on its own logger; keep it quiet.
                jieba.default_logger.setLevel(logging.WARNING)
                tk.initialize()
                if USERDICT_PATH.exists():
                    for entry in _read_lines(USERDICT_PATH):
                        parts = entry.split()
                        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                        tk.add_word(parts[0], freq=freq)
                        if freq is None:
                            # add_word's default freq can still lose to a split; force it whole.
                            tk.suggest_freq(parts[0], tune=True)
                _tokenizer = tk
    return _tokenizer


def get_cut() -> Callable[[str], list[str]]:
    """jieba's lcut for our tokenizer, through the C segmenter when it is built (same tokens)."""
    global _cut
    if _cut is None:
        tk = get_tokenizer()
        with _lock:
            if _cut is None:
                _cut = make_cutter(tk)
    return _cut


def looks_presegmented(text: str) -> bool:
    """True when text is already space-segmented Chinese (as in the training corpus)."""
    # Exact early exit, the usual case for raw messages: the mean over CJK-bearing chunks is at
    # least total CJK / all chunks, so a high overall ratio decides without a per-chunk pass.
    n_chunks = len(text.split())
    if len(_NON_CJK.sub("", text)) > 3.5 * n_chunks:
        return False
    chunks = [len(_CJK.findall(c)) for c in text.split()]
    cjk_chunks = [n for n in chunks if n]
    if len(cjk_chunks) < 3:
        return False
    # jieba words are ~2 characters; raw messages put spaces between phrases or sentences.
    return sum(cjk_chunks) / len(cjk_chunks) <= 3.5


def tokenize(text: str, *, segmented: bool | None = None) -> list[str]:
    """Normalise and segment text, dropping punctuation and stop words.

    Pre-segmented input (``segmented=True``, or auto-detected when None) is split on
    whitespace only, so the corpus segmentation is kept as it is.
    """
    norm = normalize_text(text)
    if not norm:
        return []
    if segmented is None:
        segmented = looks_presegmented(norm)
    if segmented:
        pieces = merge_userwords(norm.split(" "), load_userwords())
    elif "<" in norm and any(c in PLACEHOLDERS for c in norm.split(" ")):
        cut = get_cut()
        pieces = []
        for chunk in norm.split(" "):
            if chunk in PLACEHOLDERS:
                pieces.append(chunk)
            else:
                pieces.extend(cut(chunk))
    else:
        # One jieba call for the whole text: jieba splits at spaces itself (they come out as
        # " " tokens, dropped below), so this equals cutting chunk by chunk, minus per-call cost.
        pieces = get_cut()(norm)
    flags = list(map(_keep_cache.get, pieces))
    if None in flags:
        stop = load_stopwords()
        for i, tok in enumerate(pieces):
            if flags[i] is None:
                k = tok in PLACEHOLDERS or (tok not in stop and _HAS_WORD.search(tok) is not None)
                if len(_keep_cache) < _KEEP_CACHE_MAX:
                    _keep_cache[tok] = k
                flags[i] = k
    return list(compress(pieces, flags))

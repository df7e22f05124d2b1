"""Tokeniser: normalised text -> tokens shaped like the jieba-segmented training corpus."""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from itertools import filterfalse
from pathlib import Path

import jieba

from classifier.normalize import PLACEHOLDERS, normalize_text
from classifier.segment import Cut, UserWord, jieba_tokenizer, make_cut, parse_userdict

log = logging.getLogger(__name__)

DATA_DIR_ENV = "HOTLINE_DATA_DIR"
# The repository's data/ (a checkout or an editable install); deployments set HOTLINE_DATA_DIR
# or call configure().
REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
STOPWORDS_FILE = "stopwords.txt"
USERDICT_FILE = "userdict.txt"


@dataclass(frozen=True)
class TokenizerFiles:
    """Where the tokeniser reads its stop words and user dictionary."""

    stopwords: Path
    userdict: Path


_lock = threading.RLock()
_files: TokenizerFiles | None = None
_tokenizer: jieba.Tokenizer | None = None
_cut: Cut | None = None
_segmenter_name: str | None = None
_stopwords: frozenset[str] | None = None
_userwords: frozenset[str] | None = None
# (stop words, stop words minus placeholders): keep_words' filter, rebuilt when the list is.
_dropped: tuple[frozenset[str], frozenset[str]] | None = None
# Longest run of corpus tokens that may be re-joined into one user-dictionary word.
_MAX_MERGE = 4

# A token is kept only if it has a letter, digit or CJK character; "_" alone is noise.
_HAS_WORD = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")
# A line (one token of a newline-joined token list) without any such character.
_NO_WORD_LINE = re.compile(r"^[^\n0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]*\n", re.MULTILINE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_NON_CJK = re.compile(r"[^\u3400-\u9fff]+")


def default_data_dir() -> Path:
    """$HOTLINE_DATA_DIR when set, else the repository's data/."""
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(env) if env else REPO_DATA_DIR


def configure(
    data_dir: str | Path | None = None,
    *,
    stopwords: str | Path | None = None,
    userdict: str | Path | None = None,
) -> TokenizerFiles:
    """Use the stop words and user dictionary of data_dir (or the files given), from now on.

    data_dir defaults to $HOTLINE_DATA_DIR, else the repository's data/. Until configure is
    called, the first tokenisation configures that default. Calling it again drops the loaded
    word lists and segmenter, so the next call reads the new files.
    """
    d = Path(data_dir) if data_dir is not None else default_data_dir()
    files = TokenizerFiles(
        stopwords=Path(stopwords) if stopwords is not None else d / STOPWORDS_FILE,
        userdict=Path(userdict) if userdict is not None else d / USERDICT_FILE,
    )
    global _files, _tokenizer, _cut, _segmenter_name, _stopwords, _userwords
    with _lock:
        _files = files
        _tokenizer = _cut = _segmenter_name = _stopwords = _userwords = None
    return files


def tokenizer_files() -> TokenizerFiles:
    """The stop-word and user-dictionary files in use (configuring the default if needed)."""
    files = _files
    return files if files is not None else configure()


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        log.warning("分词数据文件不存在：%s（按空表处理）", path)
        return []
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def load_stopwords() -> frozenset[str]:
    """The configured stop-word set (loaded once)."""
    global _stopwords
    words = _stopwords
    if words is None:
        with _lock:
            if _stopwords is None:
                _stopwords = frozenset(_read_lines(tokenizer_files().stopwords))
            words = _stopwords
    return words


def _userdict_entries() -> list[UserWord]:
    return parse_userdict(_read_lines(tokenizer_files().userdict))


def load_userwords() -> frozenset[str]:
    """Words of the configured user dictionary (loaded once)."""
    global _userwords
    words = _userwords
    if words is None:
        with _lock:
            if _userwords is None:
                _userwords = frozenset(w for w, _ in _userdict_entries())
            words = _userwords
    return words


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
    """A private jieba.Tokenizer with our user dictionary: the reference segmenter."""
    global _tokenizer
    tk = _tokenizer
    if tk is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = jieba_tokenizer(_userdict_entries())
            tk = _tokenizer
    return tk


def get_cut() -> Cut:
    """The segmenter tokenize() uses: rjieba with our user dictionary (jieba without rjieba)."""
    global _cut, _segmenter_name
    cut = _cut
    if cut is None:
        with _lock:
            if _cut is None:
                _segmenter_name, _cut = make_cut(_userdict_entries())
            cut = _cut
    return cut


def segmenter_name() -> str:
    """ "rjieba", or "jieba" when rjieba could not be imported."""
    get_cut()
    assert _segmenter_name is not None
    return _segmenter_name


def looks_presegmented(text: str) -> bool:
    """True when text is already space-segmented Chinese (as in the training corpus)."""
    # Exact early exit, the usual case for raw messages: the mean over CJK-bearing chunks is at
    # least total CJK / all chunks, so a high overall ratio decides without a per-chunk pass.
    split = text.split()
    if len(split) < 3:  # fewer than three chunks with CJK in them, whatever they hold
        return False
    if len(_NON_CJK.sub("", text)) > 3.5 * len(split):
        return False
    chunks = [len(_CJK.findall(c)) for c in split]
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
        # One segmenter call for the whole text: jieba splits at spaces itself (they come out as
        # " " tokens, dropped below), so this equals cutting chunk by chunk, minus per-call cost.
        pieces = get_cut()(norm)
    return keep_words(pieces)


def keep_words(pieces: list[str]) -> list[str]:
    """The pieces that have a letter, digit or CJK character and are no stop word.

    Placeholders (<电话> …) always stay. One regex pass over the newline-joined pieces drops
    punctuation (normalize_text turned every newline into a space, so none is inside a piece),
    then a set test per word: a ticket's few hundred pieces cost one C-level scan instead of a
    regex call, or a look-up in a large per-token cache, each.
    """
    words = _NO_WORD_LINE.sub("", "\n".join(pieces) + "\n").split("\n")
    words.pop()  # after the final newline
    # filterfalse runs the set test in C: no Python frame per word
    return list(filterfalse(_dropped_words().__contains__, words))


def _dropped_words() -> frozenset[str]:
    """The stop words minus the placeholders (which always stay), built once per stop list."""
    global _dropped
    stop = load_stopwords()
    dropped = _dropped
    if dropped is None or dropped[0] is not stop:
        dropped = _dropped = (stop, stop - PLACEHOLDERS)
    return dropped[1]

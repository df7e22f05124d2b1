"""jieba Tokenizer.lcut (accurate mode, HMM on) through the C port classifier._jiebacut."""

# make_cutter(tk) gives a function equal to tk.lcut for every input: the C segmenter when the
# extension is built, else tk.lcut itself (HOTLINE_PURE_PYTHON=1 forces that). The C segmenter
# holds a copy of tk's dictionary and of jieba.finalseg's HMM tables, so a change to either
# means building it again; the function make_cutter returns does that when it sees one.
# jieba's regexes and finalseg.PrevStatus are written into the C code: monkeypatching them in
# jieba is not followed.

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import jieba
from jieba import finalseg

log = logging.getLogger(__name__)

PURE_PYTHON_ENV = "HOTLINE_PURE_PYTHON"
# The jieba release the C code was ported from (and checked against); another one may segment
# differently, so it gets jieba itself until the port is checked again.
PORTED_JIEBA_VERSION = "0.42.1"

try:  # optional: setup.py builds it only where a C compiler is available
    from classifier import _jiebacut
except ImportError as exc:  # not built: jieba itself gives the same tokens, only slower
    _jiebacut = None
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None

# Read once, at import, so that ACCELERATED always says what make_cutter does.
FORCED_PURE: bool = os.environ.get(PURE_PYTHON_ENV, "").strip() not in ("", "0")
# True when make_cutter returns the C segmenter (unless a dictionary is one it refuses).
ACCELERATED: bool = (
    _jiebacut is not None and not FORCED_PURE and jieba.__version__ == PORTED_JIEBA_VERSION
)

_Cut = Callable[[str], list[str]]
# (cut function, tk.FREQ, len(tk.FREQ), tk.total, Force_Split_Words, its len) at build time.
_State = tuple[_Cut, dict[str, int], int, int, set[str], int]


def build_segmenter(tk: jieba.Tokenizer) -> Any:
    """A C Segmenter over tk's dictionary and jieba.finalseg's HMM tables as they are now."""
    if _jiebacut is None:
        raise RuntimeError("classifier._jiebacut is not built") from IMPORT_ERROR
    tk.check_initialized()
    return _jiebacut.Segmenter(
        tk.FREQ,
        tk.total,
        finalseg.start_P,
        finalseg.trans_P,
        finalseg.emit_P,
        finalseg.Force_Split_Words,
        finalseg.MIN_FLOAT,
    )


def _build_state(tk: jieba.Tokenizer) -> _State:
    """The C cut for tk's current dictionary (tk.lcut if the C port refuses it), and its key."""
    force = finalseg.Force_Split_Words
    try:
        cut: _Cut = build_segmenter(tk).cut
    except (TypeError, ValueError, OverflowError, KeyError) as exc:
        # Values the port does not take (say a str frequency): jieba copes, or fails, its own way.
        log.warning("jieba C segmenter not used for this dictionary: %s", exc)
        cut = tk.lcut
    return (cut, tk.FREQ, len(tk.FREQ), tk.total, force, len(force))


def make_cutter(tk: jieba.Tokenizer) -> _Cut:
    """A function equal to tk.lcut(text) (cut_all=False, HMM=True), in C when built."""
    # The copy is rebuilt (about 0.1 s) on the first call after tk.FREQ is replaced or changes
    # size, tk.total changes, or finalseg.Force_Split_Words is replaced or changes size: that
    # covers add_word, del_word, suggest_freq(tune=True), load_userdict and initialize. Edits
    # that show in none of these (tk.FREQ[w] = n keeping total, replacing finalseg's
    # probability tables) need a new make_cutter call.
    if not ACCELERATED:
        return tk.lcut
    state = _build_state(tk)

    def cut(text: str) -> list[str]:
        nonlocal state
        seg_cut, freq, n_freq, total, force, n_force = state
        fs = finalseg.Force_Split_Words
        if (
            tk.FREQ is not freq
            or len(freq) != n_freq
            or tk.total != total
            or fs is not force
            or len(fs) != n_force
        ):
            state = _build_state(tk)  # one assignment, so other threads see old or new whole
            seg_cut = state[0]
        try:
            return seg_cut(text)
        except TypeError:
            if isinstance(text, str):
                raise
            return tk.lcut(text)  # bytes and the like: jieba decodes them itself

    return cut

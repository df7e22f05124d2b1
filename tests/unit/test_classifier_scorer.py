"""The C scorer gives the numpy path's linear scores for any token list."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier import fastcut, features
from classifier.features import FeatureIndex, c_scorer_enabled, char_ngrams, char_text, word_ngrams
from classifier.model import CategoryModel
from tests.cbuild import require_extension

TOKENS = st.lists(
    st.text(alphabet="物业小区ab12乱收费 \U0001f600é", min_size=1, max_size=5), max_size=40
)


def _model(docs: list[list[str]], char_range: tuple[int, int], seed: int) -> CategoryModel:
    lo, hi = char_range
    words: dict[str, None] = {}
    chars: dict[str, None] = {}
    for toks in docs:
        for g in word_ngrams(toks):
            words.setdefault(g)
        for g in char_ngrams(char_text(toks), lo, hi):
            chars.setdefault(g)
    wv, cv = list(words)[::2], list(chars)[::2]  # a partial vocabulary: some n-grams unknown
    rng = np.random.default_rng(seed)
    n = len(wv) + len(cv)
    return CategoryModel(
        labels=["甲", "乙", "丙"],
        word_vocab=wv,
        word_idf=rng.uniform(1, 5, len(wv)),
        char_vocab=cv,
        char_idf=rng.uniform(1, 5, len(cv)),
        coef=rng.normal(size=(3, n)),
        intercept=rng.normal(size=3),
        char_range=char_range,
    )


needs_scorer = pytest.mark.skipif(
    not c_scorer_enabled(), reason="C scorer switched off (HOTLINE_PURE_PYTHON=1)"
)


def test_c_scorer_is_built() -> None:
    """The extension builds wherever a C compiler is present (as in CI): no silent fallback."""
    if fastcut.FORCED_PURE:
        pytest.skip("HOTLINE_PURE_PYTHON=1 forces the numpy path")
    require_extension(features._scorer, "_scorer", features.SCORER_IMPORT_ERROR)
    assert c_scorer_enabled()


@needs_scorer
@settings(max_examples=150, deadline=None)
@given(
    st.lists(TOKENS, min_size=1, max_size=5),
    st.lists(TOKENS, max_size=5),
    st.sampled_from([(1, 3), (2, 4), (1, 1)]),
    st.integers(0, 2**16),
)
def test_c_scores_equal_numpy_scores(
    train: list[list[str]], probe: list[list[str]], char_range: tuple[int, int], seed: int
) -> None:
    model = _model(train, char_range, seed)
    if model._scorer is None:  # every n-gram dropped from the vocabulary
        assert not model.word_vocab and not model.char_vocab
        return
    for toks in train + probe + [[]]:
        c = model.decision_tokens(toks)
        ref = model.decision_tokens_numpy(toks)
        np.testing.assert_allclose(c, ref, rtol=1e-9, atol=1e-12)


@needs_scorer
def test_c_scorer_on_long_and_repeated_text() -> None:
    doc = ["物业", "乱收费", "小区", "物业"] * 500
    model = _model([doc, ["ab", "12"]], (1, 3), 7)
    for toks in (doc, doc[:1], ["未知"] * 3000):
        np.testing.assert_allclose(
            model.decision_tokens(toks), model.decision_tokens_numpy(toks), rtol=1e-9
        )
    # the same scorer object keeps giving the same answer (its scratch state is reset per call)
    first = model.decision_tokens(doc)
    for _ in range(3):
        assert np.array_equal(model.decision_tokens(doc), first)


@needs_scorer
def test_c_scorer_rejects_bad_arguments() -> None:
    model = _model([["物业", "小区"]], (1, 3), 1)
    with pytest.raises(TypeError):
        model._scorer.scores(["物业", 3], np.empty(3))
    with pytest.raises(ValueError):
        model._scorer.scores(["物业"], np.empty(2))
    index = FeatureIndex(["物业"], ["物"], (1, 1))
    with pytest.raises(ValueError):  # rows for 1 slot, but the index has 2 keys
        index.c_scorer(np.zeros((1, 4)), np.zeros(1, dtype=bool))

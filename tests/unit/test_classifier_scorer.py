"""The batched scorer (numpy + scipy.sparse) gives the per-ticket numpy reference's scores."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.features import char_ngrams, char_text, word_ngrams
from classifier.model import CategoryModel

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


@settings(max_examples=150, deadline=None)
@given(
    st.lists(TOKENS, min_size=1, max_size=5),
    st.lists(TOKENS, max_size=5),
    st.sampled_from([(1, 3), (2, 4), (1, 1)]),
    st.integers(0, 2**16),
)
def test_batch_scores_equal_numpy_scores(
    train: list[list[str]], probe: list[list[str]], char_range: tuple[int, int], seed: int
) -> None:
    model = _model(train, char_range, seed)
    batch = train + probe + [[]]
    got = model.decision_batch(batch)
    assert got.shape == (len(batch), 3)
    for toks, row in zip(batch, got, strict=True):
        ref = model.decision_tokens_numpy(toks)
        np.testing.assert_allclose(row, ref, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(model.decision_tokens(toks), ref, rtol=1e-9, atol=1e-12)


def test_batch_scores_on_long_repeated_and_unknown_text() -> None:
    doc = ["物业", "乱收费", "小区", "物业"] * 500
    model = _model([doc, ["ab", "12"]], (1, 3), 7)
    batch = [doc, doc[:1], ["未知" * 300], [], doc]
    got = model.decision_batch(batch)
    for toks, row in zip(batch, got, strict=True):
        np.testing.assert_allclose(row, model.decision_tokens_numpy(toks), rtol=1e-9)
    # a text with no known n-gram scores the intercept, like an empty one
    np.testing.assert_array_equal(got[2], model.intercept)
    np.testing.assert_array_equal(got[3], model.intercept)
    # the same ticket gets the same scores whatever else is in its batch
    assert np.array_equal(got[0], got[4])
    np.testing.assert_allclose(model.decision_tokens(doc), got[0], rtol=1e-12)


def test_predict_batch_equals_predict_across_batch_boundaries() -> None:
    from classifier import model as model_mod

    docs = [["物业", "乱收费"], ["小区", "ab"], ["12", "物业", "小区"]]
    model = _model(docs, (1, 3), 3)
    texts = [" ".join(docs[i % 3]) + f" 第{i}条" for i in range(model_mod.BATCH * 2 + 5)]
    assert model.predict_batch(texts) == [model.predict(t) for t in texts]

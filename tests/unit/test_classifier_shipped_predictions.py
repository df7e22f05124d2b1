"""The serving code gives the shipped model's predictions as they were before it was sped up.

tests/fixtures/classifier/shipped_predictions.json holds what main's serving code (7f90ef2)
predicted with data/model for texts typed as the channels deliver them (full-width, emoji and
WeChat codes, an operator's address and phones, the web form, pre-segmented, empty) and for the
first 300 raw messages of ../shared/data. A faster path that found other features or added
them differently would move a ticket's category or its probability (and so whether it goes to
review). Regenerate the fixture only together with retrained model files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from classifier import default_model_dir, load_model
from classifier.model import CategoryModel, Prediction
from classifier.rawpairs import read_raw_messages

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "classifier"
EXPECTED = json.loads((FIXTURE / "shipped_predictions.json").read_text(encoding="utf-8"))
TOL = 1e-12


@pytest.fixture(scope="module")
def model() -> CategoryModel:
    return load_model(default_model_dir())


def same(p: Prediction, category: str, probability: float, top3: list[list]) -> bool:
    return (
        p.category == category
        and abs(p.probability - probability) <= TOL
        and [c for c, _ in p.top3] == [c for c, _ in top3]
        and all(abs(q - e) <= TOL for (_, q), (_, e) in zip(p.top3, top3, strict=True))
    )


def test_channel_texts_predict_as_before(model: CategoryModel) -> None:
    cases = EXPECTED["texts"]
    batch = model.predict_batch([c["text"] for c in cases])
    for case, p_batch in zip(cases, batch, strict=True):
        p = model.predict(case["text"])
        assert p.tokens == case["tokens"], case["text"]
        assert same(p, case["category"], case["probability"], case["top3"]), case["text"]
        assert p_batch == p


@pytest.mark.shared_data
def test_raw_messages_predict_as_before(model: CategoryModel, shared_data: Path) -> None:
    raw = shared_data / "raw" / "tipdm2020_messages_with_replies.csv"
    texts = [t for t in read_raw_messages(raw) if t.strip()][:300]
    expected = EXPECTED["raw_first_300"]
    if hashlib.sha256("\n".join(texts).encode()).hexdigest() != expected["sha256"]:
        pytest.skip("the shared raw messages are not the ones the fixture was made from")
    got = model.predict_batch(texts)
    for text, p, (category, probability, top3) in zip(
        texts, got, expected["predictions"], strict=True
    ):
        assert same(p, category, probability, top3), text[:40]
    # One ticket alone gets what it gets in a batch (spot check: every 10th).
    for text, p in list(zip(texts, got, strict=True))[::10]:
        assert model.predict(text) == p

"""The trained category model: pickle-free files on disk, prediction in pure numpy."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifier.features import TfidfBlock, char_ngram_ids, word_ngrams
from classifier.tokenize import STOPWORDS_PATH, USERDICT_PATH, tokenize

log = logging.getLogger(__name__)

FORMAT = "hotline-category-model/1"
META_FILE = "model.json"
VOCAB_FILE = "vocab.json"
WEIGHTS_FILE = "weights.npz"


class ModelFileError(Exception):
    """A model directory that is missing, incomplete or of an unknown format."""


@dataclass(frozen=True)
class Prediction:
    """A proposed category with its calibrated probability, the top 3 and the tokens seen."""

    category: str
    probability: float
    top3: list[tuple[str, float]]
    tokens: list[str]


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a file, or None when it does not exist."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def tokenizer_fingerprint() -> dict[str, str | None]:
    """Hashes of the stop-word list and user dictionary the tokeniser uses now."""
    return {
        "stopwords_sha256": file_sha256(STOPWORDS_PATH),
        "userdict_sha256": file_sha256(USERDICT_PATH),
    }


@dataclass
class CategoryModel:
    """Linear model over word + char n-gram TF-IDF with temperature-scaled softmax."""

    labels: list[str]
    word_vocab: list[str]
    word_idf: np.ndarray
    char_vocab: list[str]
    char_idf: np.ndarray
    coef: np.ndarray  # (n_classes, n_features), word block first, then char block
    intercept: np.ndarray  # (n_classes,)
    temperature: float = 1.0
    char_range: tuple[int, int] = (1, 3)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.word_idf = np.asarray(self.word_idf, dtype=np.float64)
        self.char_idf = np.asarray(self.char_idf, dtype=np.float64)
        self.intercept = np.asarray(self.intercept, dtype=np.float64)
        n_feat = len(self.word_vocab) + len(self.char_vocab)
        if self.coef.shape != (len(self.labels), n_feat):
            raise ModelFileError(
                f"系数矩阵形状 {self.coef.shape} 与词表 ({len(self.labels)}, {n_feat}) 不符"
            )
        # Row-gather is the hot path: keep features as rows, contiguous, in float64.
        self._coef_t = np.ascontiguousarray(self.coef.T, dtype=np.float64)
        self._word = TfidfBlock({t: i for i, t in enumerate(self.word_vocab)}, self.word_idf, 0)
        self._char = TfidfBlock(
            {t: i for i, t in enumerate(self.char_vocab)}, self.char_idf, len(self.word_vocab)
        )
        self._char_cache: dict[str, tuple[int, ...]] = {}

    # -- prediction ---------------------------------------------------------------------

    def decision_tokens(self, tokens: Sequence[str]) -> np.ndarray:
        """Raw linear scores (one per label) for already tokenised text."""
        wi, wv = self._word.weights(word_ngrams(tokens))
        lo, hi = self.char_range
        char_ids = char_ngram_ids(tokens, self._char.vocab, lo, hi, self._char_cache)
        ci, cv = self._char.weights_from_ids(char_ids)
        if wi.size == 0 and ci.size == 0:
            return self.intercept.copy()
        ids = np.concatenate([wi, ci])
        vals = np.concatenate([wv, cv])
        return vals @ self._coef_t[ids] + self.intercept

    def proba_from_scores(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities: softmax of scores divided by the fitted temperature."""
        z = scores / self.temperature
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def predict_tokens(self, tokens: list[str]) -> Prediction:
        """Predict from tokens produced by classifier.tokenize."""
        p = self.proba_from_scores(self.decision_tokens(tokens))
        order = np.argsort(-p)[:3]
        top3 = [(self.labels[i], float(p[i])) for i in order]
        return Prediction(top3[0][0], top3[0][1], top3, list(tokens))

    def predict(self, text: str, *, segmented: bool | None = None) -> Prediction:
        """Propose a category for one raw (or pre-segmented) ticket text."""
        return self.predict_tokens(tokenize(text or "", segmented=segmented))

    def predict_batch(
        self, texts: Iterable[str], *, segmented: bool | None = None
    ) -> list[Prediction]:
        """Predict many texts; same results as calling predict on each."""
        return [self.predict(t, segmented=segmented) for t in texts]

    # -- persistence ----------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write model.json, vocab.json and weights.npz into directory (created if needed)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        meta = dict(self.meta)
        meta.update(
            format=FORMAT,
            labels=self.labels,
            temperature=self.temperature,
            char_ngram_range=list(self.char_range),
            word_ngram_range=[1, 2],
            n_features={"word": len(self.word_vocab), "char": len(self.char_vocab)},
            tokenizer=meta.get("tokenizer") or tokenizer_fingerprint(),
        )
        (d / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        (d / VOCAB_FILE).write_text(
            json.dumps({"word": self.word_vocab, "char": self.char_vocab}, ensure_ascii=False),
            encoding="utf-8",
        )
        np.savez_compressed(
            d / WEIGHTS_FILE,
            word_idf=self.word_idf.astype(np.float32),
            char_idf=self.char_idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
        )
        return d


def load_model(path: str | Path) -> CategoryModel:
    """Load a model directory written by CategoryModel.save (no pickle, no scikit-learn)."""
    d = Path(path)
    try:
        meta = json.loads((d / META_FILE).read_text(encoding="utf-8"))
        vocab = json.loads((d / VOCAB_FILE).read_text(encoding="utf-8"))
        with np.load(d / WEIGHTS_FILE, allow_pickle=False) as w:
            arrays = {k: w[k] for k in ("word_idf", "char_idf", "coef", "intercept")}
    except FileNotFoundError as e:
        raise ModelFileError(f"模型目录 {d} 不完整：缺少 {Path(e.filename).name}") from e
    except (OSError, ValueError, KeyError) as e:
        raise ModelFileError(f"无法读取模型目录 {d}：{e}") from e
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"模型目录 {d} 的格式 {meta.get('format')!r} 不是 {FORMAT}")
    now = tokenizer_fingerprint()
    if meta.get("tokenizer") and meta["tokenizer"] != now:
        # A different stop list changes the tokens; predictions still work but may drift.
        log.warning("模型 %s 训练时的停用词表/用户词典与当前不同，建议重新训练", d)
    lo, hi = meta.get("char_ngram_range", [1, 3])
    return CategoryModel(
        labels=list(meta["labels"]),
        word_vocab=list(vocab["word"]),
        word_idf=arrays["word_idf"],
        char_vocab=list(vocab["char"]),
        char_idf=arrays["char_idf"],
        coef=arrays["coef"],
        intercept=arrays["intercept"],
        temperature=float(meta.get("temperature", 1.0)),
        char_range=(int(lo), int(hi)),
        meta=meta,
    )


def softmax_nll(scores: np.ndarray, y: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of labels y (indices) under softmax(scores / T)."""
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising NLL of out-of-fold scores (golden-section search on log T)."""
    lo, hi = math.log(0.01), math.log(10.0)
    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = softmax_nll(scores, y, math.exp(c)), softmax_nll(scores, y, math.exp(d))
    for _ in range(60):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = softmax_nll(scores, y, math.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = softmax_nll(scores, y, math.exp(d))
    return math.exp((a + b) / 2)

"""Pair raw messages with their pre-segmented corpus rows, to measure the model on raw text."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from classifier.tokenize import tokenize

# A corpus row counts as "the same message" when this share of its tokens occurs in the raw one.
MIN_CONTAINMENT = 0.8


def match_pairs(
    raw_texts: Sequence[str],
    corpus_texts: Sequence[str],
    *,
    min_containment: float = MIN_CONTAINMENT,
) -> list[tuple[int, int, float]]:
    """(raw index, corpus index, containment) for raw messages whose corpus row is found."""
    corpus_tokens = [set(tokenize(t, segmented=True)) for t in corpus_texts]
    df = Counter(t for s in corpus_tokens for t in s)
    index: dict[str, list[int]] = defaultdict(list)
    for i, toks in enumerate(corpus_tokens):
        for t in toks:
            if df[t] <= 20:  # rare tokens are enough to find candidates and keep lists short
                index[t].append(i)
    pairs = []
    for j, raw in enumerate(raw_texts):
        r = set(tokenize(raw, segmented=False))
        votes: Counter[int] = Counter()
        for t in r:
            for i in index.get(t, ()):
                votes[i] += 1
        best_i, best = -1, 0.0
        for i, _ in votes.most_common(30):
            c = corpus_tokens[i]
            score = len(c & r) / max(1, len(c))
            if score > best:
                best_i, best = i, score
        if best >= min_containment:
            pairs.append((j, best_i, best))
    return pairs


def read_raw_messages(path: Path) -> list[str]:
    """留言主题 + 留言详情 of the raw TipDM file, joined as a ticket would be."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [f"{r['留言主题']} {r['留言详情']}" for r in csv.DictReader(f)]

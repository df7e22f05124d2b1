"""Does the review threshold mean what it says? Calibration of the model's probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def calibration_report(
    proba: np.ndarray, true_index: Sequence[int], thresholds: Sequence[float], bins: int = 10
) -> dict[str, Any]:
    """NLL, expected calibration error and, per threshold, the share above it and its accuracy.

    proba: tickets × classes; true_index: each ticket's class. A ticket whose top probability is
    at least the threshold is dispatched without review, so "accuracy above" is how often an
    automatic dispatch has the right category.
    """
    y = np.asarray(true_index)
    n = len(y)
    top = proba.max(axis=1)
    right = proba.argmax(axis=1) == y
    nll = float(-np.log(np.clip(proba[np.arange(n), y], 1e-15, None)).mean())
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, top, side="right") - 1, 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            ece += sel.sum() / n * abs(float(right[sel].mean()) - float(top[sel].mean()))
    per = []
    for t in thresholds:
        above = top >= t
        per.append(
            {
                "threshold": t,
                "share_auto": round(float(above.mean()), 4),
                "accuracy_auto": _share(right[above]),
                "accuracy_review": _share(right[~above]),
            }
        )
    return {
        "n": n,
        "accuracy": round(float(right.mean()), 4),
        "nll": round(nll, 4),
        "ece": round(ece, 4),
        "bins": bins,
        "thresholds": per,
    }


def _share(flags: np.ndarray) -> float | None:
    return round(float(flags.mean()), 4) if flags.size else None

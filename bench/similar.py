"""Precision and recall of the repeat score (重复件) on labelled pairs of real messages.

The labelled set, bench/similar_pairs.csv, holds message ids only (留言编号 of
/work/shared/data/raw/tipdm2020_messages_with_replies.csv) and a label: 1 when a person would
merge the two (the same matter at the same place or of the same people: the same KTV's noise,
the same bus line's change, the same developer's unpaid wages; one caller's same question asked
twice), 0 otherwise (a related but different question, the same policy asked in two cities).

How the pairs were drawn (README「相似工单与重复件」): every pair of the 2,774 messages was
scored; pairs were sampled from each score band (≥0.8, 0.7–0.8, 0.6–0.7, 0.5–0.6, 0.4–0.5,
0.3–0.4, 0.2–0.3), plus pairs whose titles share half their character bigrams whatever their
score (to find repeats the score misses: the recall check), plus random pairs (negatives);
each was labelled by hand from both messages' titles and, where the titles left doubt, texts.

    .venv/bin/python bench/similar.py [--csv PATH] [--pairs bench/similar_pairs.csv]

Prints, per threshold, precision and recall over the labelled pairs, and how many of all
3.8 million message pairs would be held at that threshold.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RAW = ROOT.parent / "shared" / "data" / "raw" / "tipdm2020_messages_with_replies.csv"
PAIRS = Path(__file__).resolve().parent / "similar_pairs.csv"
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8)


def load_pairs(path: Path) -> list[tuple[str, str, int, str]]:
    """(message a, message b, label, drawn from) of the labelled set."""
    with path.open(encoding="utf-8") as f:
        return [
            (r["message_a"], r["message_b"], int(r["same_matter"]), r["drawn_from"])
            for r in csv.DictReader(f)
        ]


def profiles(raw: Path):  # type: ignore[no-untyped-def]
    """Each message's profile as intake would build it (title, text, gazetteer place)."""
    from hotline.runtime.config import load_settings
    from hotline.services import similar
    from hotline.startup.bootstrap import load_deployment

    deployment = load_deployment(load_settings())
    scorer = similar.scorer(deployment)
    with raw.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = {}
    for r in rows:
        title, text = r["留言主题"], r["留言详情"].strip()
        district, street = similar.place_of(deployment, f"{title}\n{text}", "")
        out[r["留言编号"]] = scorer.profile(
            text=text, title=title, district=district, street=street
        )
    return out, scorer.rules


def precision_recall(
    scored: list[tuple[float, int]], threshold: float
) -> tuple[float, float, int, int, int]:
    """(precision, recall, true positives, false positives, false negatives)."""
    tp = sum(1 for s, y in scored if s >= threshold and y)
    fp = sum(1 for s, y in scored if s >= threshold and not y)
    fn = sum(1 for s, y in scored if s < threshold and y)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), tp, fp, fn


def held_pairs(profs, rules, thresholds) -> dict[float, int]:  # type: ignore[no-untyped-def]
    """How many of all message pairs score at least each threshold (sparse cosine first)."""
    import numpy as np
    from scipy import sparse

    from hotline.domain.similar import compare

    items = list(profs.values())
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for i, p in enumerate(items):
        for t, w in p.vector.items():
            rows.append(i)
            cols.append(vocab.setdefault(t, len(vocab)))
            vals.append(w)
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(items), len(vocab)))
    sims = (x @ x.T).toarray()
    np.fill_diagonal(sims, 0)
    # Bonuses add at most place + phone: a pair below (lowest threshold - that) cannot reach it.
    floor = min(thresholds) - rules.place_bonus
    a_idx, b_idx = np.where(np.triu(sims, 1) >= floor)
    scores = [compare(items[a], items[b], rules).score for a, b in zip(a_idx, b_idx, strict=True)]
    return {t: sum(1 for s in scores if s >= t) for t in thresholds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, default=RAW)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    args = parser.parse_args()
    if not args.csv.exists():
        sys.exit(f"没有找到原始留言 {args.csv}（需要 /work/shared/data/raw）")
    started = time.perf_counter()
    profs, rules = profiles(args.csv)
    from hotline.domain.similar import compare

    pairs = load_pairs(args.pairs)
    scored = [(compare(profs[a], profs[b], rules).score, y) for a, b, y, _ in pairs]
    positives = sum(y for _, y in scored)
    print(f"messages {len(profs)}, labelled pairs {len(pairs)} ({positives} same matter)")
    held = held_pairs(profs, rules, THRESHOLDS)
    total = len(profs) * (len(profs) - 1) // 2
    print(
        f"{'threshold':>9} {'precision':>9} {'recall':>6} {'tp':>4} {'fp':>4} {'fn':>4}"
        f" {'pairs held of ' + format(total, ','):>24}"
    )
    for t in THRESHOLDS:
        p, r, tp, fp, fn = precision_recall(scored, t)
        mark = "  ← hold_threshold" if t == rules.hold_threshold else ""
        mark += "  ← show_threshold" if t == rules.show_threshold else ""
        print(f"{t:>9.2f} {p:>9.2f} {r:>6.2f} {tp:>4} {fp:>4} {fn:>4} {held[t]:>24,}{mark}")
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()

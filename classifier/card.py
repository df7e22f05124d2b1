"""Render the model card (data/model/MODEL.md) from model.json and a raw-eval report."""

from __future__ import annotations

from typing import Any

FILES_NOTE = """\
Files: `model.json` (labels, settings, these figures), `vocab.json` (word and char vocabularies
in column order), `weights.npz` (IDF vectors, the folded coefficients and intercepts in float32;
the kNN postings: for each feature the training tickets holding it, delta-coded, with their
term counts, from which the TF-IDF values are rebuilt with the idf and each ticket's norms;
each ticket's class; the kNN weights; no pickle). Prediction needs no
scikit-learn (`classifier.model.CategoryModel`) and no compiled code of ours: every word and
char n-gram of a ticket becomes a 64-bit key (`classifier.features.FeatureIndex`), the distinct
keys of a batch of tickets are found with one `np.searchsorted` in the vocabulary's sorted keys,
the linear score is the TF-IDF values times the coefficient rows, and the same values run
through a pruned posting matrix (`scipy.sparse`; only features in few training tickets have
postings) to the similarity of every training ticket, whose per-class top-k sums add the kNN
part (`classifier.knn.KnnMatrix`). Tests check this equals the per-ticket numpy reference and
the unfolded scikit-learn stack."""

CV_NOTE = """\
StratifiedKFold, shuffled, seed 0; tokenised once, vectorisers and the whole stack (inner folds
included) refitted on every training fold; held-out rows scored through the same pickle-free
predictor that ships."""

RAW_NOTE = """\
How measured: the raw file `raw/tipdm2020_messages_with_replies.csv` has no labels. Each raw
message (留言主题 + 留言详情) was tokenised with our tokeniser and matched to the corpus row
whose tokens it contains best (≥ 80 % of the corpus row's tokens present;
`classifier.rawpairs`). Only {pairs} corpus rows have a raw counterpart: the two files overlap
little. Every matched row is also a training row, so the figure comes out of the same 5-fold
CV: for a held-out row with a raw counterpart, that fold's model classifies the raw text
(normalised and segmented at serving time) instead of the corpus text. With n this small the
figure moves by a few points between settings; treat it as indicative.

Reproduce (from the repository root):

    python -m classifier raw-eval --desegmented --out raw-eval.json \\
        --corpus ../shared/data/corpus/tipdm2020_messages_train.csv \\
        --raw ../shared/data/raw/tipdm2020_messages_with_replies.csv"""


def _table(report: dict[str, Any]) -> list[str]:
    lines = ["| 类别 | precision | recall | F1 | support |", "| --- | ---: | ---: | ---: | ---: |"]
    for lab, m in report["per_class"].items():
        cells = [f"{m[k]:.4f}" for k in ("precision", "recall", "f1")] + [str(m["support"])]
        lines.append(f"| {lab} | " + " | ".join(cells) + " |")
    return lines


def _confusion(report: dict[str, Any]) -> list[str]:
    labels = report["confusion"]["labels"]
    lines = ["| 真实 \\ 预测 | " + " | ".join(labels) + " |", "| --- |" + " ---: |" * len(labels)]
    for lab, row in zip(labels, report["confusion"]["matrix"], strict=True):
        lines.append(f"| {lab} | " + " | ".join(str(v) for v in row) + " |")
    return lines


def render_card(meta: dict[str, Any], raw: dict[str, Any] | None, extra: str = "") -> str:
    """Markdown model card: data, date, CV figures, per-class table, confusion, raw-text figures."""
    cv = meta.get("cv", {})
    nf = meta["n_features"]
    lo, hi = meta["char_ngram_range"]
    counts = " · ".join(f"{k} {v}" for k, v in meta.get("class_counts", {}).items())
    out = [
        "# 工单分类模型 / ticket category model",
        "",
        f"- Trained: {meta.get('created')} on `{meta.get('train_file')}` "
        f"({meta.get('n_train')} rows, {len(meta.get('labels', []))} classes), "
        f"scikit-learn {meta.get('sklearn_version')}.",
        f"- Class counts: {counts}",
        f"- Estimator: {meta.get('estimator')}. Probabilities are the meta-model's softmax "
        "(it is fitted on out-of-fold scores, which calibrates them).",
        f"- Features: word uni+bigrams ({nf['word']:,}) and character {lo}–{hi}-grams over the "
        f"space-joined tokens ({nf['char']:,}); TF-IDF, sublinear tf, l2 norm per block, "
        f"min_df = {meta.get('min_df')}.",
        f"- Training time (tokenised corpus → fitted model, inner folds included): "
        f"{meta.get('train_seconds')} s.",
        "",
        FILES_NOTE,
        "",
    ]
    if cv:
        out += [
            f"## {cv['folds']}-fold stratified cross-validation, pre-segmented corpus",
            "",
            f"n = {cv['n']}: **accuracy {cv['accuracy']:.4f}, macro-F1 {cv['macro_f1']:.4f}**.",
            CV_NOTE,
            "",
            *_table(cv),
            "",
            "Confusion matrix (rows true, columns predicted):",
            "",
            *_confusion(cv),
            "",
        ]
    if raw and raw.get("alt"):
        alt = raw["alt"]
        out += [
            "## Raw text (留言主题 + 留言详情)",
            "",
            f"n = {alt['n']}: **accuracy {alt['accuracy']:.4f}, macro-F1 {alt['macro_f1']:.4f}** "
            f"(same CV run, segmented: accuracy {raw['accuracy']:.4f}, "
            f"macro-F1 {raw['macro_f1']:.4f}).",
            "",
            RAW_NOTE.format(pairs=raw.get("pairs")),
            "",
            *_table(alt),
            "",
        ]
    if raw and raw.get("desegmented"):
        de = raw["desegmented"]
        out += [
            "### De-segmented corpus (all rows)",
            "",
            f"n = {de['n']}: **accuracy {de['accuracy']:.4f}, macro-F1 {de['macro_f1']:.4f}**.",
            "Same 5-fold CV, but each held-out row is classified from its corpus text with the",
            "spaces removed, so rjieba re-segments it at serving time. This checks segmentation on",
            "all rows (stop words and punctuation are already absent, so it does not test those).",
            "",
        ]
    if extra:
        out += [extra.rstrip(), ""]
    return "\n".join(out)

"""Render the model card (data/model/MODEL.md) from model.json, a raw-eval and a bench report."""

from __future__ import annotations

from typing import Any

FILES_NOTE = """\
Files: `model.json` (labels, settings, these figures), `vocab.json` (word and char vocabularies
in column order), `weights.npz` (IDF vectors, the folded coefficients and intercepts in float32;
with the optional kNN member (`--knn`) also its postings; no pickle). Prediction needs no
scikit-learn (`classifier.model.CategoryModel`) and no compiled code of ours: every word and
char n-gram of a ticket is a substring of its space-joined tokens and becomes a 57-bit
polynomial hash of that substring (`classifier.features.FeatureIndex`; a whole batch in one
pass, no token dictionary), found by one hash-bucket probe in records that hold each key
beside its idf and coefficients, and the
score is the TF-IDF values times the coefficient rows: the members and the meta-model are
folded into one coefficient matrix. Tests check this equals the per-ticket numpy reference
and the unfolded scikit-learn stack."""

CV_NOTE = """\
StratifiedKFold, shuffled, seed {seed}; tokenised once, vectorisers and the whole stack (inner folds
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

The same held-out rows are also scored as the channels deliver such a message
(`classifier.variants`): typed with a full-width input method, with emoji and WeChat sticker
codes, with the caller's house address and phone numbers in front as an operator records them,
and as the web form sends title and body. See the table of figures above."""


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


TARGETS = {
    "macro_f1": 0.935,
    "raw_macro_f1": 0.90,
    "ratio": 5.0,
    "batch": 2000,
    "cold_load": 2.0,
}


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def figures_table(raw: dict[str, Any] | None, bench: dict[str, Any] | None) -> list[str]:
    """Every headline figure with its target and the command that produced it."""
    from classifier.variants import VARIANT_NAMES

    out = [
        "| figure | value | target | met | made by |",
        "| --- | ---: | ---: | :---: | --- |",
    ]
    if raw and raw.get("mean"):
        mean = raw["mean"]
        seeds = raw.get("seeds", [raw])
        per = " / ".join(f"{r['macro_f1']:.4f}" for r in seeds)
        per_raw = " / ".join(f"{r['alt']['macro_f1']:.4f}" for r in seeds)
        ids = "/".join(str(r["seed"]) for r in seeds)
        cmd = f"`{raw.get('command', 'python -m classifier raw-eval')}`"
        out.append(
            f"| CV macro-F1, pre-segmented corpus (n = {raw['n']}), mean of seeds {ids} "
            f"({per}) | {mean['macro_f1']:.4f} | ≥ {TARGETS['macro_f1']} | "
            f"{_met(mean['macro_f1'] >= TARGETS['macro_f1'])} | {cmd} |"
        )
        out.append(
            f"| CV macro-F1, raw 留言主题 + 留言详情 (n = {raw['alt']['n']}), mean ({per_raw}) | "
            f"{mean['raw_macro_f1']:.4f} | ≥ {TARGETS['raw_macro_f1']} | "
            f"{_met(mean['raw_macro_f1'] >= TARGETS['raw_macro_f1'])} | same run |"
        )
        for name, fig in mean.get("variants", {}).items():
            keeps = fig["macro_f1"] >= mean["raw_macro_f1"] - 0.01
            out.append(
                f"| raw, {VARIANT_NAMES.get(name, name)}, mean | {fig['macro_f1']:.4f} | "
                f"raw score ± 0.01 | {_met(keeps)} | same run |"
            )
        if "desegmented_macro_f1" in mean:
            out.append(
                f"| CV macro-F1, corpus rows with spaces removed (re-cut by rjieba), mean | "
                f"{mean['desegmented_macro_f1']:.4f} | as segmented | – | same run |"
            )
    if bench:
        out += _bench_rows(bench)
    return out


def _bench_rows(bench: dict[str, Any]) -> list[str]:
    """Speed rows, judged on CPU time: on a shared machine the wall clock also counts the time
    other processes held the core, which says nothing about this code (both are shown)."""
    cmd = f"`{bench.get('command', 'python bench/classify.py')}`"
    ratio = bench["ratio_predict_segmenter_cpu"]
    per_s = bench["batch_per_s_cpu"]
    load = bench.get("cold_load_cpu_s", bench["cold_load_s"])
    return [
        f"| predict one 500-character ticket ÷ bare {bench.get('segmenter', 'rjieba')} on "
        f"the same text, CPU median (wall: {bench['predict_wall_median_ms']:.3f} ms ÷ "
        f"{bench['segmenter_wall_median_ms']:.3f} ms = {bench['ratio_predict_segmenter']:.2f}×)"
        f" | {ratio:.2f}× | ≤ {TARGETS['ratio']:g}× | {_met(ratio <= TARGETS['ratio'])} | {cmd} |",
        f"| batch of 500-character tickets, 1 process, CPU (wall: {bench['batch_per_s']:,}/s) "
        f"| {per_s:,}/s | ≥ {TARGETS['batch']:,}/s | {_met(per_s >= TARGETS['batch'])} "
        "| same run |",
        f"| cold load (files + first prediction), CPU (wall: {bench['cold_load_s']:.2f} s) "
        f"| {load:.2f} s | ≤ {TARGETS['cold_load']:g} s | {_met(load <= TARGETS['cold_load'])}"
        " | same run |",
        "",
        f"Bench texts: {bench.get('texts')}; load average {bench.get('load_avg')} on the "
        "2-core machine during the run. The speed rows are judged on CPU time (the process's "
        "own); the wall figures beside them also count the time other work held the core. "
        "The ratio compares two timings taken interleaved on the same texts.",
    ]


def cv_from_report(raw: dict[str, Any]) -> dict[str, Any]:
    """The model.json "cv" entry of a raw-eval report: seed 0's tables, the seeds' mean."""
    cv = {k: raw[k] for k in ("folds", "n", "accuracy", "macro_f1", "per_class", "confusion")}
    if raw.get("mean"):
        cv["mean_macro_f1"] = raw["mean"]["macro_f1"]
        cv["mean_raw_macro_f1"] = raw["mean"]["raw_macro_f1"]
        cv["seeds"] = raw["mean"]["seeds"]
    return cv


def render_card(
    meta: dict[str, Any],
    raw: dict[str, Any] | None,
    extra: str = "",
    bench: dict[str, Any] | None = None,
    calibration: dict[str, Any] | None = None,
) -> str:
    """Markdown model card: data, figures against targets, per-class tables, confusion."""
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
    if raw or bench:
        out += ["## Figures against the targets", "", *figures_table(raw, bench), ""]
    if cv:
        out += [
            f"## {cv['folds']}-fold stratified cross-validation, pre-segmented corpus",
            "",
            f"n = {cv['n']}: **accuracy {cv['accuracy']:.4f}, macro-F1 {cv['macro_f1']:.4f}** "
            f"(seed {raw.get('seed', 0) if raw else 0}).",
            CV_NOTE.format(seed=raw.get("seed", 0) if raw else 0),
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
            f"(seed {raw.get('seed', 0)}; same CV run, segmented: accuracy "
            f"{raw['accuracy']:.4f}, macro-F1 {raw['macro_f1']:.4f}).",
            "",
            RAW_NOTE.format(pairs=raw.get("pairs")),
            "",
            *_table(alt),
            "",
        ]
    if calibration:
        out += _calibration(calibration)
    if extra:
        out += [extra.rstrip(), ""]
    return "\n".join(out)


def _calibration(c: dict[str, Any]) -> list[str]:
    out = [
        "## Calibration: what the review threshold means",
        "",
        f"Trained on a stratified {1 - c['test_size']:.0%} of the corpus, scored on the other "
        f"{c['test_size']:.0%} (n = {c['n']:,}): accuracy {c['accuracy']:.4f}, NLL {c['nll']:.4f}, "
        f"expected calibration error {c['ece']:.3f} ({c['bins']} bins). Made by "
        f"`{c.get('command', 'python -m classifier calibration')}`.",
        "",
        "| review_threshold | dispatched without review | right among those "
        "| right among reviewed |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for t in c["thresholds"]:
        auto = "–" if t["accuracy_auto"] is None else f"{t['accuracy_auto']:.1%}"
        rev = "–" if t["accuracy_review"] is None else f"{t['accuracy_review']:.1%}"
        out.append(f"| {t['threshold']:g} | {t['share_auto']:.1%} | {auto} | {rev} |")
    return [*out, ""]

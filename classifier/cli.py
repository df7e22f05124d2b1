"""Command line: train, evaluate, predict (and the raw-text measurement for the model card)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from classifier import default_model_dir
from classifier.model import ModelFileError, load_model
from classifier.stacking import ALL_BASES, BASE_NAMES

EXIT_DATA = 2


def _fail(msg: str) -> int:
    print(f"错误：{msg}", file=sys.stderr)
    return EXIT_DATA


def _bases_arg(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in names if v not in ALL_BASES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"未知的线性成员：{'、'.join(unknown) or '（空）'}；可选 {'、'.join(ALL_BASES)}"
        )
    return names


def _segmented_arg(value: str) -> bool | None:
    return {"auto": None, "yes": True, "no": False}[value]


def cmd_train(args: argparse.Namespace) -> int:
    """Train on a table, save the model, then report stratified CV."""
    from classifier.train import check_classes, cross_validate, read_table, train_model

    texts, labels = read_table(args.data, args.label_col, args.text_col)
    check_classes(labels, max(5, args.folds))
    seg = _segmented_arg(args.segmented)
    print(f"读取 {len(texts)} 条，{len(set(labels))} 个类别：{args.data}")
    t0 = time.perf_counter()
    model = train_model(texts, labels, segmented=seg, progress=True, knn=args.knn, bases=args.bases)
    train_s = time.perf_counter() - t0
    out = Path(args.out) if args.out else default_model_dir()
    if args.folds > 1:
        cv = cross_validate(
            texts,
            labels,
            segmented=seg,
            folds=args.folds,
            progress=True,
            seed=args.seed,
            knn=args.knn,
            bases=args.bases,
        )
        model.meta["cv"] = {
            k: cv[k] for k in ("folds", "n", "accuracy", "macro_f1", "per_class", "confusion")
        }
    model.meta["train_file"] = Path(args.data).name
    model.save(out)
    print(f"训练用时 {train_s:.1f} 秒；模型已保存到 {out}")
    if args.folds > 1:
        print(
            f"{args.folds} 折分层交叉验证：准确率 {cv['accuracy']:.4f}，"
            f"宏平均 F1 {cv['macro_f1']:.4f}（用时 {cv['seconds']:.1f} 秒）"
        )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score a saved model on a labelled table."""
    from classifier.train import evaluate_model, read_table

    texts, labels = read_table(args.data, args.label_col, args.text_col)
    model = load_model(args.model or default_model_dir())
    report = evaluate_model(model, texts, labels, segmented=_segmented_arg(args.segmented))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(
        f"条数 {report['n']}  准确率 {report['accuracy']:.4f}  宏平均 F1 {report['macro_f1']:.4f}"
        f"  每条 {report['ms_per_item']:.3f} 毫秒"
    )
    print(f"{'类别':<10}{'精确率':>8}{'召回率':>8}{'F1':>8}{'条数':>6}")
    for lab, m in report["per_class"].items():
        print(
            f"{lab:<10}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>10.4f}{m['support']:>8}"
        )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Classify one text and show what the model saw."""
    model = load_model(args.model or default_model_dir())
    text = " ".join(args.text)
    p = model.predict(text, segmented=_segmented_arg(args.segmented))
    if args.json:
        print(
            json.dumps(
                {
                    "category": p.category,
                    "probability": p.probability,
                    "top3": p.top3,
                    "tokens": p.tokens,
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"类别：{p.category}（概率 {p.probability:.3f}）")
    print("前三：" + "；".join(f"{c} {q:.3f}" for c, q in p.top3))
    print("分词：" + " ".join(p.tokens))
    return 0


def cmd_raw_eval(args: argparse.Namespace) -> int:
    """CV per seed on the segmented corpus; held-out rows with a raw message are also scored raw.

    The raw messages are scored as the export has them and as the channels deliver them
    (classifier.variants); --desegmented adds every corpus row with its spaces removed.
    """
    from classifier.rawpairs import match_pairs, read_raw_messages
    from classifier.train import read_table
    from classifier.variants import variants_of

    texts, labels = read_table(args.corpus, "label", ["text"])
    raw = read_raw_messages(Path(args.raw))
    pairs = match_pairs(raw, texts)
    alt = {ci: raw[rj] for rj, ci, _ in pairs}
    print(
        f"原始留言 {len(raw)} 条，与语料匹配 {len(pairs)} 条（对应语料 {len(alt)} 行）",
        file=sys.stderr,
    )
    sets = variants_of(alt)
    if args.desegmented:
        # Every corpus row with its spaces removed, re-cut at serving time: a larger (7k)
        # check that segmentation of unsegmented text matches the corpus's.
        sets["desegmented"] = {i: t.replace(" ", "") for i, t in enumerate(texts)}
    reports = [_cv_report(texts, labels, alt, sets, seed, args) for seed in args.seeds]
    report = dict(reports[0])
    report.update(
        command=_command_line(),
        pairs=len(alt),
        knn=args.knn,
        seeds=reports,
        mean=_seed_means(reports),
    )
    text = json.dumps(report, ensure_ascii=False, indent=None if args.compact else 2)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


def _cv_report(
    texts: list[str],
    labels: list[str],
    alt: dict[int, str],
    sets: dict[str, dict[int, str]],
    seed: int,
    args: argparse.Namespace,
) -> dict[str, object]:
    from classifier.train import cross_validate

    report = cross_validate(
        texts,
        labels,
        segmented=True,
        folds=args.folds,
        progress=True,
        alt_texts=alt,
        alt_sets=sets,
        seed=seed,
        knn=args.knn,
        bases=args.bases,
    )
    if "desegmented" in report.get("alt_sets", {}):
        report["desegmented"] = report["alt_sets"].pop("desegmented")
    return report


def _seed_means(reports: list[dict]) -> dict[str, object]:
    """Mean accuracy and macro-F1 over the seeds: segmented, raw, and each raw variant."""

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 4)

    out: dict[str, object] = {
        "seeds": [r["seed"] for r in reports],
        "accuracy": mean([r["accuracy"] for r in reports]),
        "macro_f1": mean([r["macro_f1"] for r in reports]),
        "raw_accuracy": mean([r["alt"]["accuracy"] for r in reports]),
        "raw_macro_f1": mean([r["alt"]["macro_f1"] for r in reports]),
    }
    names = reports[0].get("alt_sets", {})
    out["variants"] = {
        name: {
            "accuracy": mean([r["alt_sets"][name]["accuracy"] for r in reports]),
            "macro_f1": mean([r["alt_sets"][name]["macro_f1"] for r in reports]),
        }
        for name in names
    }
    if "desegmented" in reports[0]:
        out["desegmented_macro_f1"] = mean([r["desegmented"]["macro_f1"] for r in reports])
    return out


def _command_line() -> str:
    """How this run was started, for the model card."""
    return "python -m classifier " + " ".join(sys.argv[1:])


def cmd_calibration(args: argparse.Namespace) -> int:
    """Train on a stratified share of a table, report calibration on the rest."""
    from sklearn.model_selection import train_test_split

    from classifier.calibration import calibration_report
    from classifier.train import read_table, tokenize_all, train_tokens

    texts, labels = read_table(args.data, args.label_col, args.text_col)
    seg = _segmented_arg(args.segmented)
    toks = tokenize_all(texts, segmented=seg)
    tr, te = train_test_split(
        np.arange(len(labels)), test_size=args.test_size, stratify=labels, random_state=args.seed
    )
    model = train_tokens([toks[i] for i in tr], [labels[i] for i in tr], bases=args.bases)
    proba = model.proba_from_scores(model.decision_batch([toks[i] for i in te]))
    index = {c: i for i, c in enumerate(model.labels)}
    report = calibration_report(proba, [index[labels[i]] for i in te], args.thresholds)
    report["command"] = _command_line()
    report["test_size"] = args.test_size
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    """Write MODEL.md for a model directory from model.json, a raw-eval and a bench report.

    The raw-eval report's cross-validation (seed 0's tables, the mean of its seeds) is also
    stored in model.json, where the hotline shows it.
    """
    from classifier.card import cv_from_report, render_card

    d = Path(args.model or default_model_dir())
    meta_file = d / "model.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    raw = json.loads(Path(args.raw_report).read_text(encoding="utf-8")) if args.raw_report else None
    bench = json.loads(Path(args.bench).read_text(encoding="utf-8")) if args.bench else None
    calib = (
        json.loads(Path(args.calibration).read_text(encoding="utf-8")) if args.calibration else None
    )
    extra = Path(args.extra).read_text(encoding="utf-8") if args.extra else ""
    if raw:
        meta["cv"] = cv_from_report(raw)
        meta_file.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    (d / "MODEL.md").write_text(render_card(meta, raw, extra, bench, calib), encoding="utf-8")
    print(f"已写入 {d / 'MODEL.md'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree for python -m classifier."""
    ap = argparse.ArgumentParser(
        prog="python -m classifier", description="工单分类模型：训练、评估、预测"
    )
    sub = ap.add_subparsers(dest="cmd", required=True)

    def table_args(p: argparse.ArgumentParser, required: bool = True) -> None:
        p.add_argument("--data", required=required, help="CSV（UTF-8）或 XLSX 文件")
        p.add_argument("--label-col", required=required, help="标签列名")
        p.add_argument(
            "--text-col",
            required=required,
            action="append",
            help="文本列名，可重复，多列以空格拼接",
        )
        p.add_argument(
            "--segmented",
            choices=["auto", "yes", "no"],
            default="auto",
            help="文本是否已分词（空格分隔）；auto 按内容判断",
        )

    p = sub.add_parser(
        "train",
        help="训练模型并做分层交叉验证",
        description="在带标签的表格上训练模型。要加上数据库中已办结的工单一起训练，"
        "请用 python main.py retrain。",
    )
    table_args(p)
    p.add_argument("--out", help=f"模型输出目录（默认 {default_model_dir()}）")
    p.add_argument("--folds", type=int, default=5, help="交叉验证折数，0 表示不做")
    p.add_argument("--seed", type=int, default=0, help="交叉验证分折的随机种子")
    p.add_argument(
        "--knn", action="store_true", help="加入近邻工单成员（准确率略高，每条慢约一倍）"
    )
    p.add_argument(
        "--bases",
        type=_bases_arg,
        default=list(BASE_NAMES),
        help=f"线性成员，逗号分隔，可选 {','.join(ALL_BASES)}（默认 {','.join(BASE_NAMES)}）",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="在带标签的数据上评估模型")
    table_args(p)
    p.add_argument("--model", help="模型目录（默认内置模型）")
    p.add_argument("--json", action="store_true", help="只输出一个 JSON 对象")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="预测一条文本的类别")
    p.add_argument("text", nargs="+", help="工单文本")
    p.add_argument("--model", help="模型目录（默认内置模型）")
    p.add_argument("--segmented", choices=["auto", "yes", "no"], default="auto")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("raw-eval", help="交叉验证，并对能匹配到原始留言的测试行用原文评估")
    p.add_argument("--corpus", required=True, help="已分词语料 CSV（text,label）")
    p.add_argument("--raw", required=True, help="原始留言 CSV（留言主题,留言详情）")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument(
        "--seeds", type=int, nargs="+", default=[0], help="交叉验证分折的随机种子，可给多个"
    )
    p.add_argument("--compact", action="store_true")
    p.add_argument("--out", help="同时把 JSON 报告写入此文件")
    p.add_argument("--desegmented", action="store_true", help="另对去掉空格的语料全文做同样评估")
    p.add_argument(
        "--knn", action="store_true", help="加入近邻工单成员（准确率略高，每条慢约一倍）"
    )
    p.add_argument(
        "--bases",
        type=_bases_arg,
        default=list(BASE_NAMES),
        help=f"线性成员，逗号分隔，可选 {','.join(ALL_BASES)}（默认 {','.join(BASE_NAMES)}）",
    )
    p.set_defaults(func=cmd_raw_eval)

    p = sub.add_parser("calibration", help="按比例留出测试集，检查概率校准与复核阈值")
    table_args(p)
    p.add_argument("--test-size", type=float, default=0.2, help="留出比例（默认 0.2）")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--thresholds", type=float, nargs="+", default=[0.5, 0.6, 0.7, 0.8, 0.9], help="复核阈值"
    )
    p.add_argument(
        "--bases",
        type=_bases_arg,
        default=list(BASE_NAMES),
        help=f"线性成员，逗号分隔，可选 {','.join(ALL_BASES)}",
    )
    p.add_argument("--out", help="同时把 JSON 报告写入此文件")
    p.set_defaults(func=cmd_calibration)

    p = sub.add_parser("card", help="生成模型说明 MODEL.md")
    p.add_argument("--model", help="模型目录（默认内置模型）")
    p.add_argument("--raw-report", help="raw-eval 输出的 JSON 文件")
    p.add_argument("--bench", help="bench/classify.py --out 输出的 JSON 文件")
    p.add_argument("--calibration", help="calibration 输出的 JSON 文件")
    p.add_argument("--extra", help="追加到末尾的 Markdown 文件")
    p.set_defaults(func=cmd_card)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; data problems end with one message on stderr and exit code 2."""
    from classifier.train import DataError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (DataError, ModelFileError) as e:
        return _fail(str(e))
    except KeyboardInterrupt:
        return _fail("已中断")

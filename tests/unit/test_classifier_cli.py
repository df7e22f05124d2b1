"""CLI via subprocess: train / evaluate / predict on the fixture, and clean data errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "classifier" / "tickets.csv"
TABLE = ["--label-col", "类别", "--text-col", "标题", "--text-col", "内容"]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "classifier", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("model")
    return out, run("train", "--data", FIXTURE, *TABLE, "--out", out)


def test_train_writes_model_and_cv(trained: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, r = trained
    assert r.returncode == 0, r.stderr
    assert "宏平均 F1" in r.stdout and "准确率" in r.stdout
    assert (out / "weights.npz").is_file()
    meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert meta["cv"]["folds"] == 5 and 0 <= meta["cv"]["macro_f1"] <= 1


def test_evaluate_json(trained: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = trained
    r = run("evaluate", "--data", FIXTURE, *TABLE, "--model", out, "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)  # exactly one JSON object, nothing else on stdout
    assert {"n", "accuracy", "macro_f1", "per_class", "confusion", "ms_per_item"} <= report.keys()
    assert report["n"] == 40 and report["accuracy"] > 0.9
    assert set(report["per_class"]["环境保护"]) == {"precision", "recall", "f1", "support"}


def test_evaluate_unknown_label_is_an_error_not_a_crash(
    trained: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    out, _ = trained
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    lines.append("41,公交车晚点,公交车经常晚点半小时,交通运输")
    f = tmp_path / "more.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run("evaluate", "--data", f, *TABLE, "--model", out, "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["n"] == 41 and report["per_class"]["交通运输"]["recall"] == 0.0


def test_predict(trained: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = trained
    r = run("predict", "--model", out, "老板拖欠工资不发")
    assert r.returncode == 0, r.stderr
    assert "劳动和社会保障" in r.stdout and "拖欠工资" in r.stdout and "前三" in r.stdout


def assert_clean_error(r: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def test_missing_column(tmp_path: Path) -> None:
    r = run(
        "train", "--data", FIXTURE, "--label-col", "分类", "--text-col", "内容", "--out", tmp_path
    )
    assert_clean_error(r, "分类", "tickets.csv")


def test_small_class(tmp_path: Path) -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    keep = [ln for ln in lines if not ln.endswith(",环境保护")] + [
        ln for ln in lines if ln.endswith(",环境保护")
    ][:3]
    f = tmp_path / "small.csv"
    f.write_text("\n".join(keep) + "\n", encoding="utf-8")
    r = run("train", "--data", f, *TABLE, "--out", tmp_path / "m")
    assert_clean_error(r, "环境保护", "3")


def test_non_utf8(tmp_path: Path) -> None:
    f = tmp_path / "gbk.csv"
    f.write_bytes(FIXTURE.read_text(encoding="utf-8").encode("gbk"))
    r = run("train", "--data", f, *TABLE, "--out", tmp_path / "m")
    assert_clean_error(r, "UTF-8", "gbk.csv")


def test_empty_label_names_row(tmp_path: Path) -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ","
    f = tmp_path / "blank.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run("evaluate", "--data", f, *TABLE, "--json")
    assert_clean_error(r, "第 4 行", "类别")


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    assert_clean_error(run("train", "--data", tmp_path / "nope.csv", *TABLE), "nope.csv")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip file")
    assert_clean_error(run("train", "--data", bad, *TABLE), "bad.xlsx")


def test_xlsx_input(tmp_path: Path, trained: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    import csv

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    with open(FIXTURE, encoding="utf-8") as fh:
        for row in csv.reader(fh):
            ws.append(row)
    f = tmp_path / "t.xlsx"
    wb.save(f)
    r = run("evaluate", "--data", f, *TABLE, "--model", trained[0], "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["n"] == 40

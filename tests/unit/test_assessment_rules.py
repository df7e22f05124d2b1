"""data/assessment.toml is checked like the other data files: Chinese errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.reporting.assessment import (
    DEFAULT_RULES,
    AssessmentError,
    load_assessment_rules,
)
from hotline.reporting.unit_rates import Figures

DATA = Path(__file__).resolve().parents[2] / "data"


def test_the_shipped_file_loads() -> None:
    rules = load_assessment_rules(DATA)
    assert rules.weights["on_time_rate"] == 30 and rules.deductions["reject-dispute"] == 2.0
    assert (rules.min_assignments, rules.min_callbacks) == (5, 5)


def test_no_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_assessment_rules(tmp_path) == DEFAULT_RULES


@pytest.mark.parametrize(
    "text,line,words",
    [
        ("[weights]\non_time_rate = 30\nfast_rate = 5\n", 3, "未知的指标「fast_rate」"),
        ("[weights]\non_time_rate = -1\n", 2, "不小于 0"),
        ("[weights]\non_time_rate = 30\n[deductions]\nlate = 1\n", 4, "未知的扣分项「late」"),
        ("[sample]\nmin_callbacks = 2.5\n[weights]\non_time_rate = 1\n", 2, "整数"),
        ("[weights]\non_time_rate = 0\n", 1, "至少要给一项"),
        ("[scores]\nx = 1\n", 1, "未知的表「scores」"),
        ("[weights\n", None, "TOML 语法错误"),
    ],
)
def test_mistakes_name_the_file_and_line(
    tmp_path: Path, text: str, line: int | None, words: str
) -> None:
    (tmp_path / "assessment.toml").write_text(text, encoding="utf-8")
    with pytest.raises(AssessmentError) as caught:
        load_assessment_rules(tmp_path)
    message = str(caught.value)
    assert words in message
    if line is not None:
        assert f"assessment.toml:{line}:" in message


def test_a_small_sample_is_named_per_rate() -> None:
    fig = Figures(dispatched=5, signed=5, callbacks=4)
    short = DEFAULT_RULES.insufficient(fig)
    assert "satisfaction_rate" in short and "on_time_rate" not in short

"""Start-up says when the classifier runs without its C extensions."""

from __future__ import annotations

import logging

import pytest

from classifier import fastcut
from hotline import bootstrap


def test_no_message_when_accelerated(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fastcut, "ACCELERATED", True)
    monkeypatch.setattr("classifier.features.c_scorer_enabled", lambda: True)
    with caplog.at_level(logging.INFO, logger="hotline"):
        bootstrap._log_classifier_speed()
    assert caplog.records == []


def test_warns_when_the_build_failed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fastcut, "ACCELERATED", False)
    monkeypatch.setattr(fastcut, "FORCED_PURE", False)
    with caplog.at_level(logging.INFO, logger="hotline"):
        bootstrap._log_classifier_speed()
    [record] = caplog.records
    assert record.levelno == logging.WARNING and "pip install -e ." in record.getMessage()


def test_says_so_quietly_when_switched_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fastcut, "ACCELERATED", False)
    monkeypatch.setattr(fastcut, "FORCED_PURE", True)
    with caplog.at_level(logging.INFO, logger="hotline"):
        bootstrap._log_classifier_speed()
    [record] = caplog.records
    assert record.levelno == logging.INFO and "HOTLINE_PURE_PYTHON" in record.getMessage()

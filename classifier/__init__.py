"""Ticket category classifier: rjieba tokenisation + stacked TF-IDF model, pickle-free files."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from classifier.model import CategoryModel, ModelFileError, Prediction, load_model

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "model"

__all__ = [
    "CategoryModel",
    "ModelFileError",
    "Prediction",
    "default_model",
    "default_model_dir",
    "load_model",
]


def default_model_dir() -> Path:
    """$HOTLINE_MODEL_DIR, else $HOTLINE_DATA_DIR/model, else the repository's data/model."""
    env = os.environ.get("HOTLINE_MODEL_DIR")
    if env:
        return Path(env)
    data = os.environ.get("HOTLINE_DATA_DIR", "").strip()
    return Path(data) / "model" if data else DEFAULT_MODEL_DIR


@lru_cache(maxsize=1)
def default_model() -> CategoryModel:
    """The default model, loaded once per process."""
    return load_model(default_model_dir())

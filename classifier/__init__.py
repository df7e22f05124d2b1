"""Ticket category classifier: jieba tokenisation + linear TF-IDF model, pickle-free files."""

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
    """The shipped model folder, or $HOTLINE_MODEL_DIR when set."""
    env = os.environ.get("HOTLINE_MODEL_DIR")
    return Path(env) if env else DEFAULT_MODEL_DIR


@lru_cache(maxsize=1)
def default_model() -> CategoryModel:
    """The default model, loaded once per process."""
    return load_model(default_model_dir())

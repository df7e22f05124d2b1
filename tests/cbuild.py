"""Whether this machine can build the optional C extensions (so tests must find them built)."""

from __future__ import annotations

import shutil
import sysconfig
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import pytest

import classifier


def can_build() -> bool:
    """A C compiler and the Python headers are present, so pip install builds the extension."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    return bool(cc) and shutil.which(cc[0]) is not None and headers.exists()


def require_extension(module: Any, name: str, import_error: BaseException | None) -> Any:
    """module itself; a failure where it should have been built, a skip where it cannot be."""
    if module is not None:
        return module
    here = Path(classifier.__file__).parent
    built = [p for suffix in EXTENSION_SUFFIXES for p in here.glob(name + suffix)]
    if built:
        pytest.fail(f"{built[0].name} is there but does not import: {import_error!r}")
    if can_build():
        pytest.fail(
            f"classifier.{name} is not built although a C compiler and Python.h are here: "
            "run `pip install -e .` again and read why the build failed"
        )
    pytest.skip(f"no C compiler or Python.h here: classifier.{name} cannot be built")

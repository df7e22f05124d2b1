"""Small helpers for reading TOML data files with errors that name file, line and field."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any


def read_toml(path: Path, error: type[Exception]) -> tuple[dict[str, Any], str]:
    """Parse a TOML file, turning I/O and syntax errors into `error` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: 无法读取文件（{exc.strerror or exc}）") from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already carries "(at line N, column M)".
        raise error(f"{path}: TOML 语法错误：{exc}") from exc


def locate(text: str, table: str, index: int | None, field: str | None) -> int | None:
    """Best-effort 1-based line of `field` in the index-th `[[table]]` (or `[table]`) block."""
    lines = text.splitlines()
    header = (
        re.compile(r"^\s*\[\[\s*" + re.escape(table) + r"\s*\]\]")
        if index is not None
        else re.compile(r"^\s*\[\s*" + re.escape(table) + r"\s*\]")
    )
    starts = [i for i, line in enumerate(lines) if header.match(line)]
    if index is not None:
        if index >= len(starts):
            return None
        begin = starts[index]
    elif starts:
        begin = starts[0]
    else:
        begin = -1  # top-level keys
    if field is None:
        return begin + 1 if begin >= 0 else None
    key = re.compile(r"^\s*" + re.escape(field) + r"\s*=")
    any_header = re.compile(r"^\s*\[")
    for i in range(begin + 1, len(lines)):
        if any_header.match(lines[i]):
            break
        if key.match(lines[i]):
            return i + 1
    if begin < 0:
        # An unknown top-level name may be a table header rather than a key.
        table_header = re.compile(r"^\s*\[\[?\s*" + re.escape(field) + r"\s*\]")
        for i, line in enumerate(lines):
            if table_header.match(line):
                return i + 1
        return None
    return begin + 1


def where(path: Path, line: int | None) -> str:
    """Render `file:line` (or just the file when the line is unknown)."""
    return f"{path}:{line}" if line else str(path)

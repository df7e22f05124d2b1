"""Read a TOML data file and remember where each table and key sits, for error messages."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routing.errors import RuleError

# tomllib gives no positions, so we re-scan the raw text for headers and keys.
# This understands the subset our data files use: [[array]] / [table] headers
# and `key = ...` lines (a multi-line array is located by its first line).
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""")
_TOML_POS = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass
class TomlSource:
    """A parsed TOML file plus the line numbers of its tables and keys."""

    path: Path
    data: dict[str, Any]
    lines: list[str]
    # (table, index) -> (first line, last line), 1-based; top level is ("", 0)
    spans: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    keys: dict[tuple[str, int, str], int] = field(default_factory=dict)

    def line_of(self, table: str = "", index: int = 0, key: str | None = None) -> int | None:
        """Line of `key` inside entry `index` of `table` (or of the entry header)."""
        if key is not None and (table, index, key) in self.keys:
            return self.keys[(table, index, key)]
        span = self.spans.get((table, index))
        if span is None or not table:
            return None
        return span[0]

    def line_of_value(self, table: str, index: int, value: str) -> int | None:
        """First line inside the entry that holds `value` as a quoted string."""
        span = self.spans.get((table, index))
        if span is None:
            return None
        quoted = (f'"{value}"', f"'{value}'")
        for no in range(span[0], span[1] + 1):
            if any(q in self.lines[no - 1] for q in quoted):
                return no
        return None

    def error(
        self,
        message: str,
        *,
        table: str = "",
        index: int = 0,
        key: str | None = None,
        value: str | None = None,
    ) -> RuleError:
        """Build a RuleError pointing at the entry / key / value."""
        line = None
        if value is not None:
            line = self.line_of_value(table, index, value)
        if line is None:
            line = self.line_of(table, index, key)
        where = f"[[{table}]] 第 {index + 1} 条" if table else None
        return RuleError(message, path=self.path, line=line, field=key, where=where)


def read_toml(path: str | Path) -> TomlSource:
    """Parse `path`, raising RuleError (with the line) for missing files or bad syntax."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise RuleError(f"无法读取文件：{exc.strerror or exc}", path=p) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RuleError("文件不是 UTF-8 编码", path=p) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.search(str(exc))
        raise RuleError(
            f"TOML 语法错误：{exc}", path=p, line=int(m.group(1)) if m else None
        ) from exc
    src = TomlSource(path=p, data=data, lines=text.splitlines())
    _index(src)
    return src


def _index(src: TomlSource) -> None:
    counters: dict[str, int] = {}
    current: tuple[str, int] = ("", 0)
    start = 1
    for no, line in enumerate(src.lines, start=1):
        m = _HEADER.match(line)
        if m:
            src.spans[current] = (start, no - 1)
            name = m.group(2)
            if m.group(1) == "[[":
                idx = counters.get(name, -1) + 1
                counters[name] = idx
            else:
                idx = 0
            current, start = (name, idx), no
            continue
        k = _KEY.match(line)
        if k:
            key = k.group(1).strip("\"'")
            src.keys.setdefault((current[0], current[1], key), no)
    src.spans[current] = (start, len(src.lines))

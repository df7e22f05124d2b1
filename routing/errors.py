"""Errors raised while loading routing data files."""

from __future__ import annotations

from pathlib import Path


class RuleError(ValueError):
    """A data file under data/ is invalid; the message names file, line and field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path,
        line: int | None = None,
        field: str | None = None,
        where: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.where = where
        self.reason = message
        loc = self.path if line is None else f"{self.path}:{line}"
        parts = [loc]
        if where:
            parts.append(where)
        if field:
            parts.append(f"字段「{field}」")
        super().__init__("：".join([" ".join(parts), message]))

"""The deployment's vocabulary (data/vocabulary.toml): kinds, urgencies, channels, categories.

Read once at start-up; the pure packages receive it as plain strings (routing's and sla's
loaders check their files against it), and the classifier model's labels are checked here.
Errors name file and line, in the same form as every other data file's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from routing.errors import RuleError
from routing.tomlsource import TomlSource, read_toml

VOCABULARY_FILE = "vocabulary.toml"
_TOP = ("kinds", "urgencies", "channels", "categories")
_CATEGORY_KEYS = ("model", "other")
_CHANNEL_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Vocabulary:
    """Every word the data files and the API may use for kind, urgency, channel, category."""

    kinds: tuple[str, ...]
    urgencies: tuple[str, ...]
    channels: Mapping[str, str]  # code -> label
    model_categories: tuple[str, ...]  # what the classifier outputs
    other_categories: tuple[str, ...]  # chosen by hand only
    path: Path
    model_line: int | None = None  # where categories.model is, for errors about the model

    @property
    def categories(self) -> tuple[str, ...]:
        """Every first-level category: the model's, then the hand-chosen ones."""
        return self.model_categories + self.other_categories


def load_vocabulary(data_dir: Path) -> Vocabulary:
    """Read data_dir/vocabulary.toml (RuleError names file, line and field)."""
    src = read_toml(Path(data_dir) / VOCABULARY_FILE)
    for key in src.data:
        if key not in _TOP:
            raise _error(src, f"未知的顶层字段（允许：{'、'.join(_TOP)}）", key=key)
    cats = src.data.get("categories")
    if not isinstance(cats, dict):
        raise _error(src, "缺少 [categories] 表（model = 模型输出的分类）", key="categories")
    for key in cats:
        if key not in _CATEGORY_KEYS:
            raise _error(
                src, f"未知字段（允许：{'、'.join(_CATEGORY_KEYS)}）", table="categories", key=key
            )
    model = _words(src, cats, "model", table="categories", required=True)
    other = _words(src, cats, "other", table="categories", required=False)
    for word in other:
        if word in model:
            raise _error(
                src,
                f"分类「{word}」同时出现在 model 和 other 中",
                table="categories",
                key="other",
                value=word,
            )
    return Vocabulary(
        kinds=_words(src, src.data, "kinds", table="", required=True),
        urgencies=_words(src, src.data, "urgencies", table="", required=True),
        channels=_channels(src),
        model_categories=model,
        other_categories=other,
        path=src.path,
        model_line=src.line_of("categories", 0, "model"),
    )


def _error(
    src: TomlSource, message: str, *, table: str = "", key: str | None = None, value: str = ""
) -> RuleError:
    """RuleError at the key's line; `[table]` headers are plain tables in this file."""
    line = src.line_of_value(table, 0, value) if value else None
    line = line or src.line_of(table, 0, key)
    if line is None and table:
        span = src.spans.get((table, 0))
        line = span[0] if span else None
    return RuleError(
        message, path=src.path, line=line, field=key, where=f"[{table}]" if table else None
    )


def _words(
    src: TomlSource, table_data: dict[str, Any], key: str, *, table: str, required: bool
) -> tuple[str, ...]:
    if key not in table_data:
        if required:
            raise _error(src, "缺少必填字段（字符串数组）", table=table, key=key)
        return ()
    value = table_data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _error(src, "必须是非空字符串的数组", table=table, key=key)
    if required and not value:
        raise _error(src, "不能为空", table=table, key=key)
    seen: set[str] = set()
    for v in value:
        if v in seen:
            raise _error(src, f"「{v}」重复", table=table, key=key)
        seen.add(v)
    return tuple(value)


def _channels(src: TomlSource) -> Mapping[str, str]:
    raw = src.data.get("channels")
    if not isinstance(raw, dict) or not raw:
        raise _error(src, "缺少 [channels] 表（渠道代码 = 名称）", key="channels")
    for code, label in raw.items():
        if not _CHANNEL_CODE.match(code):
            raise _error(src, "渠道代码只能用小写字母、数字和下划线", table="channels", key=code)
        if not isinstance(label, str) or not label.strip():
            raise _error(src, "渠道名称必须是非空字符串", table="channels", key=code)
    return MappingProxyType(dict(raw))


def check_model_labels(vocabulary: Vocabulary, model_dir: Path) -> None:
    """The classifier's labels must be exactly the vocabulary's model categories."""
    meta_path = Path(model_dir) / "model.json"
    try:
        text = meta_path.read_text(encoding="utf-8")
        labels = json.loads(text).get("labels")
    except (OSError, ValueError, AttributeError) as exc:
        raise RuleError(f"无法读取模型标签：{exc}", path=meta_path) from exc
    check_labels(vocabulary, labels, path=meta_path, line=_labels_line(text))


def check_labels(
    vocabulary: Vocabulary, labels: Sequence[str] | None, *, path: Path, line: int | None
) -> None:
    """RuleError at `path:line` when `labels` and the model categories differ."""
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise RuleError("缺少分类标签列表", path=path, line=line, field="labels")
    at = f"{vocabulary.path}:{vocabulary.model_line}" if vocabulary.model_line else vocabulary.path
    see = f"（见 {at} categories.model）"
    unknown = [x for x in labels if x not in vocabulary.model_categories]
    if unknown:
        raise RuleError(
            f"模型输出的分类「{'、'.join(unknown)}」不在词表中{see}",
            path=path,
            line=line,
            field="labels",
        )
    missing = [x for x in vocabulary.model_categories if x not in labels]
    if missing:
        raise RuleError(
            f"词表中的分类「{'、'.join(missing)}」模型不会输出{see}；"
            "请把它们移到 categories.other，或用含这些分类的数据重新训练",
            path=path,
            line=line,
            field="labels",
        )


def _labels_line(text: str) -> int | None:
    """Line of the top-level "labels" key (the least indented one) in model.json."""
    best: tuple[int, int] | None = None
    for no, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        if stripped.startswith('"labels"'):
            indent = len(line) - len(stripped)
            if best is None or indent < best[0]:
                best = (indent, no)
    return best[1] if best else None

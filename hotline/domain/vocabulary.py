"""The one vocabulary: every word the system uses for kinds, urgencies, channels, statuses,
roles and categories, with the Chinese labels people read.

Two owners, one place each:
- the code owns the words its rules depend on — kinds (举报 is confidential), urgencies,
  channel codes, statuses and roles, with their labels — declared below;
- the deployment owns categories and the channels' labels, in data/vocabulary.toml, read
  once at start-up; the file lists kinds, urgencies and channel codes too (routing.toml and
  sla.toml are checked against them), and start-up refuses a file whose words differ from
  the code's.

Pages, the API, exports and the intake channels read these; no other module lists them.
Errors name file and line, in the same form as every other data file's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hotline.domain.errors import HotlineError
from routing.errors import RuleError
from routing.tomlsource import TomlSource, read_toml

# ---- words the code owns ----------------------------------------------------------------


@dataclass(frozen=True)
class KindSpec:
    """One 诉求类型 and every rule that depends on it, declared once."""

    word: str
    code: str  # ASCII and stable: what programs send (the Open311 `kind` attribute)
    hint: str = ""  # what the citizen form says beside it, so a citizen picks the right one
    # A question or a request for help is only useful if the citizen hears back.
    needs_contact: bool = False
    # About something that happens somewhere: the place is what routes it to a street.
    needs_place: bool = False
    # The reporter stays hidden from the units (hotline.privacy.rules) and may ask not to be
    # contacted at all.
    confidential: bool = False


# 诉求类型, in the order forms offer them.
KIND_SPECS: tuple[KindSpec, ...] = (
    KindSpec("咨询", "consult", "想了解政策或办事方法", needs_contact=True),
    KindSpec("求助", "help", "遇到困难，需要帮助", needs_contact=True, needs_place=True),
    KindSpec("投诉", "complaint", "对某事不满，希望处理", needs_place=True),
    KindSpec("举报", "report", "反映违法违规行为，身份保密", needs_place=True, confidential=True),
    KindSpec("建议", "suggest"),
    KindSpec("表扬", "praise"),
)
KINDS: tuple[str, ...] = tuple(k.word for k in KIND_SPECS)
KIND_BY_WORD: Mapping[str, KindSpec] = MappingProxyType({k.word: k for k in KIND_SPECS})
# 紧急 = risk to life or property; 复杂 = a matter policy allows longer limits for.
URGENCIES: tuple[str, ...] = ("紧急", "一般", "复杂")
DEFAULT_URGENCY = "一般"


@dataclass(frozen=True)
class ChannelSpec:
    """One intake channel by code; its label is the deployment's (vocabulary.toml [channels])."""

    code: str
    online: bool = False  # the citizen wrote it in themselves, without an operator
    by_program: bool = False  # only a program records it: an operator never chooses it


CHANNEL_SPECS: tuple[ChannelSpec, ...] = (
    ChannelSpec("phone"),
    ChannelSpec("web", online=True),
    ChannelSpec("wechat", online=True),
    ChannelSpec("open311", online=True, by_program=True),
    ChannelSpec("other"),
)
CHANNELS: tuple[str, ...] = tuple(c.code for c in CHANNEL_SPECS)
ONLINE_CHANNELS: tuple[str, ...] = tuple(c.code for c in CHANNEL_SPECS if c.online)
OPERATOR_CHANNELS: tuple[str, ...] = tuple(c.code for c in CHANNEL_SPECS if not c.by_program)


class Status(StrEnum):
    """Where a ticket stands."""

    RECEIVED = "received"
    DISPATCHED = "dispatched"
    DISPUTED = "disputed"
    HANDLING = "handling"
    EXTENSION_REQUESTED = "extension_requested"
    PAUSED = "paused"
    PAUSE_REQUESTED = "pause_requested"  # 挂起申请: the unit asked, the centre decides
    REPLY_REVIEW = "reply_review"  # 答复审核: a reviewed kind's reply waits for the centre
    REPLIED = "replied"
    CALLED_BACK = "called_back"
    CLOSED = "closed"
    MERGED = "merged"


class Role(StrEnum):
    """Who is acting."""

    OPERATOR = "operator"
    UNIT = "unit"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SYSTEM = "system"
    # The complainant, acting with the ticket's query code (no account): rates the reply.
    CITIZEN = "citizen"


STATUS_LABELS: dict[Status, str] = {
    Status.RECEIVED: "已受理",
    Status.DISPATCHED: "已派单待签收",
    Status.DISPUTED: "退单待改派",
    Status.HANDLING: "办理中",
    Status.EXTENSION_REQUESTED: "延期审核中",
    Status.PAUSED: "已挂起",
    Status.PAUSE_REQUESTED: "挂起审核中",
    Status.REPLY_REVIEW: "答复待审核",
    Status.REPLIED: "已回复待回访",
    Status.CALLED_BACK: "已回访待办结",
    Status.CLOSED: "已办结",
    Status.MERGED: "已并单",
}

ROLE_LABELS: dict[Role, str] = {
    Role.OPERATOR: "话务员",
    Role.UNIT: "承办单位",
    Role.SUPERVISOR: "督办人员",
    Role.ADMIN: "管理员",
    Role.SYSTEM: "系统",
    Role.CITIZEN: "市民",
}

# 办理结果 (a unit's reply) and 调解结果, as forms offer them and the timeline shows them.
RESULT_LABELS: Mapping[str, str] = MappingProxyType(
    {"solved": "已解决", "partly": "部分解决", "unsolvable": "无法解决"}
)
OUTCOME_LABELS: Mapping[str, str] = MappingProxyType(
    {"agreed": "达成调解协议", "failed": "调解未成功"}
)

# The roles an account can have (system and citizen act without one).
STAFF_ROLES: tuple[Role, ...] = (Role.OPERATOR, Role.UNIT, Role.SUPERVISOR, Role.ADMIN)


def kind_choices() -> list[tuple[str, str]]:
    """(kind, what a citizen reads) for each kind, in form order."""
    return [(k.word, f"{k.word}（{k.hint}）" if k.hint else k.word) for k in KIND_SPECS]


# ---- the deployment's file --------------------------------------------------------------

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

    def check_category(self, value: str | None) -> None:
        """Refuse a category that is not a word of the list (None or "": the router decides).

        Categories are a closed list: a typed 「城建」 would start a category of its own in
        the hot-category figures, the Open311 services and the labels the router retrains on.
        """
        if value and value not in self.categories:
            allowed = "、".join(self.categories)
            message = f"分类「{value}」不在分类表中，请从以下分类中选择：{allowed}"
            raise HotlineError(
                message,
                status=422,
                code="unknown_category",
                fields=[{"field": "category", "message": message, "type": "unknown_category"}],
            )


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
    kinds = _words(src, src.data, "kinds", table="", required=True)
    _same_words(src, "kinds", kinds, KINDS, table="")
    urgencies = _words(src, src.data, "urgencies", table="", required=True)
    _same_words(src, "urgencies", urgencies, URGENCIES, table="")
    channels = _channels(src)
    _same_words(src, "channels", tuple(channels), CHANNELS, table="channels")
    return Vocabulary(
        kinds=kinds,
        urgencies=urgencies,
        channels=channels,
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


def _same_words(
    src: TomlSource, key: str, found: tuple[str, ...], code: tuple[str, ...], *, table: str
) -> None:
    """The file's words must be the code's: its rules and the API know no others."""
    extra = [w for w in found if w not in code]
    missing = [w for w in code if w not in found]
    if not (extra or missing):
        return
    said = "，".join(
        part
        for part in (
            f"多出「{'、'.join(extra)}」" if extra else "",
            f"缺少「{'、'.join(missing)}」" if missing else "",
        )
        if part
    )
    may = "渠道名称可以改" if table else "顺序可以调整"
    raise _error(
        src,
        f"{said}；本系统只认 {'、'.join(code)}，请改回这些词（{may}）",
        table=table,
        key=extra[0] if table and extra else key,
    )


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

"""HTML forms built from the pydantic body models: fields, parsing and Chinese errors.

An action's form is generated from `ACTIONS[action].body`, so adding a field to a body
adds it to the page; only the Chinese wording of fields and choices lives here.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from hotline.domain.field_errors import field_errors
from hotline.domain.vocabulary import OUTCOME_LABELS, RESULT_LABELS

FIELD_LABELS = {
    "kb_entry": "所用知识库条目",  # set by the console's 「用此答复」, not typed
    "reason": "理由",
    "text": "内容",
    "days": "延期天数",  # the ticket page names the policy's unit and maximum
    "done": "本单位负责的部分已办完",
    "unit": "下派给（本单位的下级单位）",
    "outcome": "调解结果",
    "result": "办理结果",
    "contacted": "已联系上市民",
    "satisfaction": "满意度",
    "solved": "市民认为问题已解决",
    "into": "并入工单编号",
    "lead_unit": "主办单位",
    "assisting_units": "协办单位",
    "category": "分类",
    "note": "备注（可不填）",
    "dispatch_text": "转办内容（单位看到的内容；不填则沿用，电话、证件号会自动隐去）",
    "avoidance_override": "举报回避例外的书面理由（仅督办人员；派给被举报单位时必填）",
}
# Per action, where the generic label says too little.
ACTION_FIELD_LABELS = {
    ("subdispatch", "limit"): "下级办理时限（如 3wd = 3 个工作日，不填按默认，须在本单位时限之内）",
    (
        "supervise",
        "limit",
    ): "督办时限（可不填；如 3wd = 3 个工作日、48h = 48 小时，单位须在此时限内答复）",
    ("reply", "text"): "答复内容（市民将看到）",
    ("callback", "note"): "回访备注（可不填；如市民的原话、约定再联系的时间，记入工单历史）",
    ("sub-reply", "text"): "答复内容（报上级单位审核，审核通过后作为其回复草稿）",
    ("assist-opinion", "text"): "协办意见（主办单位将看到）",
    ("sub-return", "reason"): "退回理由（下级单位将看到，请说明还需做什么）",
    ("answer", "text"): "答复内容（市民将看到）",
    ("mediate", "text"): "调解情况",
    ("reject", "reason"): "退单理由（说明为何不属于本单位）",
    ("pause", "reason"): "挂起理由（中心同意后才暂停计时）",
    ("deny-pause", "reason"): "不同意挂起的理由（单位会看到，时限照常计算）",
    ("reject-dispute", "reason"): "驳回退单的理由（说明为何属于该单位，工单退回该单位签收）",
    ("return-reply", "reason"): "退回答复的理由（说明要补充或改正什么，反馈时限照常计算）",
    ("approve-extension", "days"): "同意延期天数（不填则按申请天数）",
    ("dispatch", "lead_unit"): "主办单位（不选则按系统建议）",
    ("redispatch", "lead_unit"): "主办单位（不选则按系统建议）",
    ("dispatch", "category"): "分类（不填则按系统建议）",
    ("redispatch", "category"): "分类（不填则保持不变）",
    ("notify-parties", "text"): "告知情况（告知了谁、何时、以何种方式）",
    ("confirm-dispatch-text", "title"): "单位看到的标题",
    # Only the tracking page posts a supplement (photos stored first); labelled all the same.
    ("supplement", "text"): "补充的情况",
    ("supplement", "photos"): "照片",
    ("confirm-dispatch-text", "dispatch_text"): (
        "单位看到的转办内容（已预填隐去个人信息的建议稿：请对照原文删去能认出诉求人的内容，"
        "无误按 Ctrl+Enter 确认）"
    ),
}
# The citizen web form (/submit): CitizenForm's fields and the photo input.
CITIZEN_FIELD_LABELS = {
    "kind": "诉求类型",
    "title": "标题（一句话概括，可不填）",
    "content": "具体情况",
    "place": "所在区县 / 街道",
    "address": "详细地址（小区、道路、门牌等）",
    "name": "姓名（可不填）",
    "phone": "手机号",
    "email": "电子邮箱",
    "sms": "接收短信通知（办理进展以短信告知）",
    "no_contact": "不希望被联系（仅举报可选，办理中不会打电话或发短信给您）",
    "photos": "照片（可不传）",
}
CHOICE_LABELS = {**RESULT_LABELS, **OUTCOME_LABELS}
TEXTAREA = frozenset({"reason", "text", "note", "dispatch_text"})
# A callback for a reporter who asked not to be contacted keeps the note alone: without the
# 「已联系上市民」 box the form posts contacted=false (未联系) and no satisfaction.
NOT_CONTACTED_FIELDS = frozenset({"note"})
# kb_entry: only the console's 「用此答复」 sets it (and counts the use); not a field to type.
HIDDEN = frozenset({"expected_version", "kb_entry"})
# Fields only some roles may fill: the others do not see them (the service refuses them anyway,
# hotline.services.steps: only a supervisor may dispatch a 举报 to a unit it names).
FIELD_ROLES = {"avoidance_override": frozenset({"supervisor"})}


@dataclass
class Field:
    """One form field as the template draws it."""

    name: str
    label: str
    widget: str  # textarea, text, number, checkbox, select, units, unit, tristate
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    error: str = ""
    min: int | None = None
    max: int | None = None
    autofocus: bool = False  # the one field the page puts the cursor in


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `| None`, and whether None was allowed."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _is_unit_code(annotation: Any) -> bool:
    for meta in getattr(annotation, "__metadata__", ()):
        pattern = getattr(meta, "pattern", None)
        if pattern and pattern.startswith("^[A-Z]"):
            return True
    return False


def _with_metadata(info: Any) -> Any:
    """A required field's constraints (pydantic moves them from the annotation to metadata)."""
    return types.SimpleNamespace(__metadata__=tuple(info.metadata))


def fields_of(
    model: type[BaseModel],
    *,
    action: str,
    units: list[tuple[str, str]],
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    role: str | None = None,
) -> list[Field]:
    """The fields of a body model `role` may fill, with the values typed and errors to show."""
    values = values or {}
    errors = errors or {}
    out = []
    for name, info in model.model_fields.items():
        if name in HIDDEN or (name in FIELD_ROLES and role not in FIELD_ROLES[name]):
            continue
        annotation, optional = _unwrap(info.annotation)
        origin = typing.get_origin(annotation)
        label = ACTION_FIELD_LABELS.get((action, name)) or FIELD_LABELS.get(name, name)
        required = info.is_required()
        f = Field(name, label, "text", required, value=values.get(name), error=errors.get(name, ""))
        if origin is Literal:
            f.widget = "select"
            f.choices = [
                (str(v), CHOICE_LABELS.get(str(v), str(v))) for v in typing.get_args(annotation)
            ]
        elif origin is list and _is_unit_code(typing.get_args(annotation)[0]):
            f.widget = "units"
            f.choices = units
            f.value = values.get(name) or []
        elif _is_unit_code(annotation) or _is_unit_code(_with_metadata(info)):
            f.widget = "unit"
            f.choices = units
        elif annotation is bool:
            f.widget = "tristate" if optional else "checkbox"
            # A re-shown form keeps what was posted: an absent checkbox was unticked.
            if not values and not optional and info.default is not None:
                f.value = info.default
        elif annotation is int:
            f.widget = "number"
            for meta in info.metadata:
                f.min = getattr(meta, "ge", f.min)
                f.max = getattr(meta, "le", f.max)
        elif name in TEXTAREA:
            f.widget = "textarea"
        out.append(f)
    # The optional note last: the action's own fields come first.
    return sorted(out, key=lambda f: f.name == "note")


def parse_form(model: type[BaseModel], form: Any) -> dict[str, Any]:
    """A posted form as the dict the model validates (empty optional fields left out)."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation, optional = _unwrap(info.annotation)
        origin = typing.get_origin(annotation)
        if origin is list:
            items = [v for v in form.getlist(name) if v]
            if items:
                data[name] = items
            continue
        if annotation is bool and not optional:
            data[name] = form.get(name) in ("on", "true", "1")
            continue
        raw = form.get(name)
        if raw is None:
            continue
        raw = str(raw)
        if raw.strip() == "" and not info.is_required():
            continue
        if annotation is bool:
            data[name] = raw == "true"
        else:
            data[name] = raw
    return data


def validate_form(model: type[BaseModel], data: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """The validated body, or None and a Chinese message per field."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for loc, message, _kind in field_errors(exc):
            errors.setdefault(loc[0] if loc else "_", message)
            errors.setdefault(".".join(loc) if loc else "_", message)
        return None, errors

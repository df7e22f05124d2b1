"""The complainants' text-message templates from data/sms.toml, checked at start-up."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hotline.domain.lifecycle import Sms

# The named fields each template may use; the code fills exactly these.
FIELDS: dict[Sms, tuple[str, ...]] = {
    Sms.CREATED: ("number", "code", "link"),
    Sms.REPLY: ("number", "reply", "link"),
    Sms.CLOSE: ("number", "link"),
}
_KEYS = frozenset({"text", "aliyun_template"})


class SmsTemplateError(ValueError):
    """data/sms.toml is wrong; the message names the file, the template and the field."""


@dataclass(frozen=True)
class SmsTemplate:
    """One message: its text with {named} fields, and the gateway's registered template."""

    name: Sms
    text: str
    aliyun_template: str = ""

    def render(self, params: Mapping[str, str]) -> str:
        """The message text with its fields filled in."""
        return self.text.format_map(dict(params))


@dataclass(frozen=True)
class SmsTemplates:
    """Every template by name."""

    templates: Mapping[Sms, SmsTemplate]

    def __getitem__(self, name: Sms) -> SmsTemplate:
        return self.templates[name]

    def missing_aliyun(self) -> list[str]:
        """Templates without an Alibaba Cloud template code (needed with SMS_GATEWAY=aliyun)."""
        return [t.name.value for t in self.templates.values() if not t.aliyun_template]


def load_sms_templates(path: Path) -> SmsTemplates:
    """Read and check `path`; SmsTemplateError says what is wrong and where."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SmsTemplateError(f"{path}：无法读取短信模板：{exc}") from exc
    return parse_sms_templates(raw, source=str(path))


def parse_sms_templates(raw: Mapping[str, object], *, source: str) -> SmsTemplates:
    """Check the parsed TOML: every template present, known fields only, the link in each."""
    table = raw.get("template")
    if not isinstance(table, dict):
        raise SmsTemplateError(f"{source}：缺少 [template.<名称>] 表")
    unknown = sorted(set(table) - {s.value for s in Sms})
    if unknown:
        known = "、".join(s.value for s in Sms)
        raise SmsTemplateError(f"{source}：未知的短信模板 {'、'.join(unknown)}（可用：{known}）")
    templates = {}
    for name in Sms:
        entry = table.get(name.value)
        where = f"{source}：[template.{name.value}]"
        if not isinstance(entry, dict):
            raise SmsTemplateError(f"{where} 缺失")
        extra = sorted(set(entry) - _KEYS)
        if extra:
            raise SmsTemplateError(
                f"{where} 有未知的键 {'、'.join(extra)}（可用：text、aliyun_template）"
            )
        text, code = entry.get("text"), entry.get("aliyun_template", "")
        if not isinstance(text, str) or not text.strip():
            raise SmsTemplateError(f"{where} 缺少 text（短信正文）")
        if not isinstance(code, str):
            raise SmsTemplateError(f'{where} 的 aliyun_template 必须是字符串，如 "SMS_123456"')
        _check_fields(text, FIELDS[name], where)
        templates[name] = SmsTemplate(name=name, text=text.strip(), aliyun_template=code.strip())
    return SmsTemplates(templates)


def _check_fields(text: str, allowed: tuple[str, ...], where: str) -> None:
    """Only plain {field} placeholders of this template, and {link} among them."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise SmsTemplateError(
            f"{where} 的 text 花括号不配对：{exc}（字面花括号写作 {{{{ }}}}）"
        ) from exc
    used = set()
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in allowed or spec or conversion:
            raise SmsTemplateError(
                f"{where} 的 text 中「{{{field}}}」不是可用字段（可用：{'、'.join(allowed)}）"
            )
        used.add(field)
    # Replies sent back by text are not read: every message carries the tracking link instead.
    if "link" not in used:
        raise SmsTemplateError(f"{where} 的 text 必须包含 {{link}}（办理进度查询链接）")

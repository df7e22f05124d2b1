"""pydantic's validation errors in Chinese: the one translator the API and the pages share.

A person reads each message beside the field it is about, so it says what is wrong and
what to do; the API's JSON (`fields[].message`) and a page's red line under the field are
the same text for the same mistake.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

# Errors whose text does not depend on the constraint's numbers.
FIELD_ERRORS = {
    "missing": "必填，请填写",
    "extra_forbidden": "不是可接受的字段，请删去",
    "string_type": "必须是字符串",
    "string_unicode": "必须是合法的 Unicode 字符串",
    "string_pattern_mismatch": "格式不正确，请对照说明重新填写",
    "bool_parsing": "必须是 true 或 false",
    "bool_type": "必须是 true 或 false",
    "int_parsing": "必须是整数，请填写整数",
    "int_parsing_size": "整数超出范围，请填写较小的数",
    "int_type": "必须是整数，请填写整数",
    "int_from_float": "必须是整数，不能带小数",
    "float_parsing": "必须是数字，请填写数字",
    "float_type": "必须是数字，请填写数字",
    "finite_number": "必须是有限的数字",
    "date_parsing": "必须是 YYYY-MM-DD 格式的日期",
    "date_from_datetime_parsing": "必须是 YYYY-MM-DD 格式的日期",
    "date_from_datetime_inexact": "必须是 YYYY-MM-DD 格式的日期",
    "date_type": "必须是 YYYY-MM-DD 格式的日期",
    "datetime_parsing": "必须是 ISO 8601 格式的时间",
    "datetime_from_date_parsing": "必须是 ISO 8601 格式的时间",
    "datetime_type": "必须是 ISO 8601 格式的时间",
    "list_type": "必须是数组",
    "dict_type": "必须是 JSON 对象",
    "model_type": "必须是 JSON 对象",
    "model_attributes_type": "必须是 JSON 对象",
    "json_invalid": "不是合法的 JSON",
    "json_type": "不是合法的 JSON",
    "none_required": "必须为空",
    "enum": "取值不在允许范围内，请从可选项中选择",
    "literal_error": "取值不在允许范围内，请从可选项中选择",
}
# What a person is told when pydantic reports something not in the table above.
FALLBACK = "取值无效，请检查后重新填写"
# Our own validators raise ValueError("…") in Chinese; pydantic prefixes "Value error, ".
_PREFIXES = ("Value error, ", "Assertion failed, ")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def field_message(err: Any) -> str:
    """A message a person can act on, in Chinese, for one pydantic error (never pydantic's)."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        text = str(ctx.get("error", "")) or str(err.get("msg", ""))
        for prefix in _PREFIXES:
            text = text.removeprefix(prefix)
        # pydantic's own English (a library validator) is never shown to a person.
        return text if _CJK.search(text) else FALLBACK
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}，请填写 {ctx.get('ge')} 或更大的数"
    if kind == "greater_than":
        return f"必须大于 {ctx.get('gt')}，请填写更大的数"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}，请填写 {ctx.get('le')} 或更小的数"
    if kind == "less_than":
        return f"必须小于 {ctx.get('lt')}，请填写更小的数"
    if kind == "string_too_short":
        return f"太短：至少 {ctx.get('min_length')} 个字，请补充"
    if kind == "string_too_long":
        return f"太长：最多 {ctx.get('max_length')} 个字，请删减"
    if kind == "too_short":
        return f"太少：至少 {ctx.get('min_length')} 项，请补充"
    if kind == "too_long":
        return f"太多：最多 {ctx.get('max_length')} 项，请删减"
    if kind in ("enum", "literal_error") and "expected" in ctx:
        # pydantic says "'json', 'xlsx' or 'csv'"; people read "json、xlsx 或 csv"
        expected = str(ctx["expected"]).replace("'", "").replace(", ", "、").replace(" or ", " 或 ")
        return f"必须是 {expected}"
    if kind == "multiple_of":
        return f"必须是 {ctx.get('multiple_of')} 的倍数"
    return FIELD_ERRORS.get(kind, FALLBACK)


def field_errors(exc: ValidationError) -> list[tuple[tuple[str, ...], str, str]]:
    """(location, Chinese message, pydantic type) for each error, in pydantic's order."""
    return [
        (tuple(str(p) for p in err["loc"]), field_message(err), err["type"]) for err in exc.errors()
    ]

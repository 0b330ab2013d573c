"""Chinese wording for pydantic validation errors, shared by the console and the settings loader.

It lives in ``store`` because that is the one package both ``webui`` and ``yuqing`` may import.
pydantic's own messages are English ("Input should be greater than 0"); users never see them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# type -> template; {name} fields come from the error's ctx
_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "int_parsing_size": "整数过大",
    "float_type": "应为数字", "float_parsing": "应为数字", "finite_number": "应为有限的数字",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "string_type": "应为文本", "list_type": "应为列表", "dict_type": "应为映射（键: 值）",
    "model_type": "应为对象", "model_attributes_type": "应为对象",
    "literal_error": "取值不在允许范围内：{expected}",
    "enum": "取值不在允许范围内：{expected}",
    "string_pattern_mismatch": "格式不正确",
    "string_too_short": "至少需要 {min_length} 个字符",
    "string_too_long": "不能超过 {max_length} 个字符",
    "too_short": "至少需要 {min_length} 项", "too_long": "不能超过 {max_length} 项",
    "greater_than": "应大于 {gt}", "greater_than_equal": "应大于或等于 {ge}",
    "less_than": "应小于 {lt}", "less_than_equal": "应小于或等于 {le}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "datetime_type": "应为日期时间", "datetime_parsing": "日期时间格式不正确",
    "datetime_from_date_parsing": "日期时间格式不正确", "datetime_object_invalid": "日期时间无效",
    "date_type": "应为日期", "date_parsing": "日期格式不正确", "date_from_datetime_parsing": "日期格式不正确",
    "time_type": "应为 HH:MM 格式的时间", "time_parsing": "应为 HH:MM 格式的时间",
    "timezone_naive": "时间需要带时区", "timezone_aware": "时间不能带时区",
    "json_invalid": "不是有效的 JSON", "json_type": "应为 JSON 文本",
    "url_parsing": "链接格式不正确", "url_scheme": "链接协议不正确", "url_type": "应为链接",
    "union_tag_invalid": "类型不正确", "is_instance_of": "类型不正确",
}


def error_message(err: Mapping[str, Any]) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in Chinese."""
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):  # our own validators raise Chinese text
        return str(ctx.get("error", err.get("msg", "")))
    template = _MESSAGES.get(kind)
    if template is None:
        return "取值不正确"
    try:
        return template.format(**{k: _plain(v) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return template.split("{")[0].rstrip("：: ") or "取值不正确"


def location(loc: tuple[Any, ...] | list[Any]) -> str:
    """``('co', 2)`` -> ``co[2]``; the field path as users write it."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _plain(value: Any) -> Any:
    # pydantic passes Decimal/float bounds; 1e+18 reads badly, so show whole numbers whole
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value

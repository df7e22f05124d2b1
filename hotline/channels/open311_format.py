"""Open311 answers as JSON or XML, in the element names of the spec's own examples.

XML is built with ElementTree elements, which escape text, never by joining strings.
Characters XML 1.0 cannot carry at all (control characters) are dropped from text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# The element of one item inside each list container the spec uses.
ITEM_OF = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_ILLEGAL.sub("", str(value))


def _fill(parent: Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(SubElement(parent, key), item)
    elif isinstance(value, list | tuple):
        tag = ITEM_OF.get(parent.tag, "item")
        for item in value:
            _fill(SubElement(parent, tag), item)
    else:
        parent.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """`value` (records, lists of records) under a `root` element, UTF-8 with a declaration."""
    element = Element(root)
    _fill(element, value)
    return tostring(element, encoding="utf-8", xml_declaration=True)


def to_json(value: Any) -> bytes:
    """Compact UTF-8 JSON with Chinese as it is (not \\u escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def render(fmt: str, root: str, value: Any) -> tuple[bytes, str]:
    """The body and content type of an answer in format `fmt` ("json" or "xml")."""
    if fmt == "xml":
        return to_xml(root, value), XML_TYPE
    return to_json(value), JSON_TYPE


def errors(fmt: str, status: int, descriptions: Sequence[str]) -> tuple[bytes, str]:
    """The spec's error answer: `[{"code", "description"}]` or `<errors><error>…`."""
    return render(fmt, "errors", [{"code": status, "description": d} for d in descriptions])

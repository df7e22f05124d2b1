"""Text normalisation for citizen messages: width, whitespace, and masking of personal data."""

from __future__ import annotations

import re
import unicodedata

PLACEHOLDER_URL = "<网址>"
PLACEHOLDER_EMAIL = "<邮箱>"
PLACEHOLDER_ID = "<证件号>"
PLACEHOLDER_PHONE = "<电话>"
PLACEHOLDERS: frozenset[str] = frozenset(
    {PLACEHOLDER_URL, PLACEHOLDER_EMAIL, PLACEHOLDER_ID, PLACEHOLDER_PHONE}
)

# Excel exports of the source data carry literal "_x000D_" for carriage returns.
_EXCEL_CR = re.compile(r"_x000D_", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# 18-digit resident ID (last char may be X) or the old 15-digit form; checked before phones
# because an ID number contains phone-like digit runs.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_PHONE = re.compile(
    r"(?<![0-9])(?:"
    r"(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}"  # mobile, optionally +86 and grouped 3-4-4
    r"|0\d{2,3}[- ]?\d{7,8}"  # landline with area code
    r")(?![0-9])"
)
_WS = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC-fold, mask URLs / e-mails / ID numbers / phones, and collapse whitespace."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = _EXCEL_CR.sub(" ", text)
    text = _URL.sub(f" {PLACEHOLDER_URL} ", text)
    text = _EMAIL.sub(f" {PLACEHOLDER_EMAIL} ", text)
    text = _ID_NUMBER.sub(f" {PLACEHOLDER_ID} ", text)
    text = _PHONE.sub(f" {PLACEHOLDER_PHONE} ", text)
    return _WS.sub(" ", text).strip()

"""Which contact numbers can take a text message (pure)."""

from __future__ import annotations

import re

# Mainland mobile numbers: 11 digits, 1 then 3–9. Landlines (0xx…) and service numbers
# cannot receive SMS, so they get nothing rather than a gateway error.
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-()（）]")


def mobile_number(raw: str | None) -> str | None:
    """The 11-digit mainland mobile number in `raw` (+86/86 prefix, spaces, dashes allowed)."""
    if not raw:
        return None
    digits = _SEPARATORS.sub("", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if _MOBILE.fullmatch(digits) else None

"""What each viewer may see of a complainant (pure)."""

from __future__ import annotations

from dataclasses import dataclass

HIDDEN = "（保密）"


def mask_phone(phone: str) -> str:
    """Keep the first three and last four digits: 13812345678 → 138****5678."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


@dataclass(frozen=True)
class ComplainantView:
    """The complainant's details as one viewer may see them."""

    name: str
    phone: str
    email: str


def complainant_view(
    *, role: str, kind: str, confidential: bool, name: str, phone: str, email: str
) -> ComplainantView:
    """Operators see everything; supervisors a masked phone; units nothing of a 举报 reporter.

    A unit needs the phone to contact the complainant, except when the complainant asked
    for confidentiality or reports wrongdoing (举报), whose reporter must stay hidden from
    the units (the one reported on may be among them).
    """
    if role == "operator":
        return ComplainantView(name, phone, email)
    if role == "unit":
        if kind == "举报" or confidential:
            return ComplainantView(HIDDEN, HIDDEN, HIDDEN)
        return ComplainantView(name, phone, email)
    return ComplainantView(name, mask_phone(phone), email and HIDDEN)

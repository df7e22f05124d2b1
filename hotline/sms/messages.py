"""Who gets a text about a ticket, and the fields its template is filled with (pure)."""

from __future__ import annotations

from urllib.parse import quote

from hotline.domain.lifecycle import Sms
from hotline.privacy.rules import no_contact_applies
from hotline.sms.phone import mobile_number

# Alibaba Cloud refuses template variables longer than 35 characters; the excerpt fits,
# and the whole reply is one tap away behind the tracking link.
REPLY_EXCERPT_CHARS = 35
REPLY_EXCERPT_LINES = 2


def sms_recipient(
    *, phone: str, sms_opt_out: bool, no_contact: bool, confidential: bool
) -> str | None:
    """The mobile number to text, or None: opted out, a confidential no-contact reporter,
    a landline or no number."""
    if sms_opt_out or no_contact_applies(no_contact=no_contact, confidential=confidential):
        return None
    return mobile_number(phone)


def tracking_link(base_url: str, number: str) -> str:
    """The public tracking page of a ticket, without its query code (texts get forwarded)."""
    return f"{base_url.rstrip('/')}/track?number={quote(number, safe='')}"


def reply_excerpt(text: str) -> str:
    """The reply's first non-empty lines, joined and cut to fit one template variable."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    joined = " ".join(lines[:REPLY_EXCERPT_LINES])
    more = len(lines) > REPLY_EXCERPT_LINES or len(joined) > REPLY_EXCERPT_CHARS
    if len(joined) > REPLY_EXCERPT_CHARS:
        joined = joined[: REPLY_EXCERPT_CHARS - 1]
    return joined + "…" if more else joined


def sms_params(
    sms: Sms, *, number: str, code: str, base_url: str, reply_text: str = ""
) -> dict[str, str]:
    """The named fields of template `sms` (hotline.sms.templates.FIELDS) for one ticket."""
    params = {"number": number, "link": tracking_link(base_url, number)}
    if sms is Sms.CREATED:
        params["code"] = code
    elif sms is Sms.REPLY:
        params["reply"] = reply_excerpt(reply_text)
    return params


def dedupe_key(number: str, sms: Sms, version: int) -> str:
    """One message per ticket write: the ticket's version after the write tells writes apart."""
    return f"{number}:{sms.value}:v{version}"

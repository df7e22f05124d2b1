"""The signed token in the citizen form: when the form was served and its idempotency key.

Citizens have no session, so this token is the form's CSRF and anti-replay defence: it is
signed with SECRET_KEY (a forged or altered token is refused), it says when the form was
served (a form sent back within seconds is a robot's; one days old has expired), and its
random key makes a repeated post (double click, reload) return the first ticket.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from starlette.datastructures import Secret

from hotline.web.session import sign, unsign

FIELD = "form_token"
MIN_SECONDS = 3  # a person reads and types for longer than this
MAX_SECONDS = 24 * 3600


@dataclass(frozen=True)
class FormToken:
    """A verified token: the form's idempotency key and when the form was served (Unix s)."""

    key: str
    issued: int

    def too_fast(self, now: float) -> bool:
        """Whether the form came back sooner than a person could have filled it."""
        return now - self.issued < MIN_SECONDS

    def wait(self, now: float) -> int:
        """Whole seconds still to wait before the form may come back (at least 1)."""
        return max(1, math.ceil(MIN_SECONDS - (now - self.issued)))

    def expired(self, now: float) -> bool:
        """Whether the form was served too long ago to accept (or claims a future time)."""
        return now - self.issued > MAX_SECONDS or self.issued > now + 60


def issue(secret: Secret, now: float) -> str:
    """A new token for a freshly served form."""
    return sign({"k": secrets.token_urlsafe(18), "t": int(now), "p": "submit"}, secret)


def verify(secret: Secret, value: object) -> FormToken | None:
    """The token's contents, or None when it is missing, forged or not a form token."""
    if not isinstance(value, str) or len(value) > 400:
        return None
    data = unsign(value, secret)
    # "p" keeps a session cookie (signed with the same key) from passing as a form token.
    if not data or data.get("p") != "submit":
        return None
    key, issued = data.get("k"), data.get("t")
    if not isinstance(key, str) or not isinstance(issued, int):
        return None
    return FormToken(key, issued)
